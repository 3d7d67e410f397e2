from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0002_archive_renewal")]

    operations = [
        ops.CreateModel(
            name="DocumentBlob",
            fields=[
                ("sha256", fields.CharField(primary_key=True, max_length=64, unique=True,
                                            db_index=True)),
                ("size", fields.BigIntField()),
                ("chunks", fields.IntField()),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={"table": "document_blobs", "app": "models", "pk_attr": "sha256"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="DocumentChunk",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True,
                                          db_index=True)),
                ("sha256", fields.CharField(max_length=64)),
                ("seq", fields.IntField()),
                ("data", fields.BinaryField()),
            ],
            options={"table": "document_chunks", "app": "models",
                     "unique_together": (("sha256", "seq"),), "pk_attr": "id"},
            bases=["Model"],
        ),
    ]
