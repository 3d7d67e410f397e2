from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0003_document_store")]

    operations = [
        ops.CreateModel(
            name="CertificateRevocation",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True,
                                          db_index=True)),
                ("ca", fields.CharField(max_length=16)),
                ("serial", fields.CharField(max_length=48)),
                ("reason", fields.CharField(max_length=32)),
                ("revoked_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={"table": "certificate_revocations", "app": "models",
                     "unique_together": (("ca", "serial"),), "pk_attr": "id",
                     "table_description": "One revoked certificate, recorded once and "
                                          "never removed."},
            bases=["Model"],
        ),
    ]
