from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0006_agencies_staff_statistics")]

    operations = [
        ops.CreateModel(
            name="FiledDocumentReport",
            fields=[
                ("sha256", fields.CharField(primary_key=True, unique=True, db_index=True,
                                            max_length=64)),
                ("report", fields.JSONField(null=True)),
                ("revocations", fields.CharField(max_length=64)),
                ("validated_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={"table": "filed_document_reports", "app": "models", "pk_attr": "sha256",
                     "table_description": "The signature validation of one filed (or renewed) "
                                          "document, by its SHA-256."},
            bases=["Model"],
        ),
    ]
