from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    """Several documents per sale: every stored PDF version says which document it is.

    Versions stored before this migration are all of the contract (the default).
    """

    dependencies = [("models", "0004_certificate_revocations")]

    operations = [
        ops.AddField(
            model_name="StoredDocument",
            name="kind",
            field=fields.CharField(max_length=32, default="contract", db_default="contract"),
        ),
    ]
