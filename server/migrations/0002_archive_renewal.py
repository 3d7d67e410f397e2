from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0001_initial")]

    operations = [
        ops.AddField(
            model_name="Contract",
            name="archive_expires_at",
            field=fields.DatetimeField(null=True, db_index=True),
        ),
    ]
