from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

async def backfill_filing_facts(apps, schema_editor) -> None:
    """The statistics' rows of the contracts filed before this migration."""
    from server.services.filing_facts import backfill

    await backfill(apps.get_model("models.Contract"), apps.get_model("models.RegistrationUnit"),
                   apps.get_model("models.FilingFact"))


class Migration(migrations.Migration):
    dependencies = [('models', '0005_sale_documents')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AgencyClient',
            fields=[
                ('client_id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=40)),
                ('name', fields.CharField(max_length=128)),
                ('kind', fields.CharField(max_length=16)),
                ('region_code', fields.CharField(db_index=True, max_length=6)),
                ('secret_hash', fields.CharField(max_length=160)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('disabled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'agency_clients', 'app': 'models', 'pk_attr': 'client_id', 'table_description': "An agency's system, bound to one region and one kind (what it may read)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='FilingFact',
            fields=[
                ('contract_id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=32)),
                ('region_code', fields.CharField(max_length=6)),
                ('district', fields.CharField(max_length=32)),
                ('filed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('filed_month', fields.CharField(max_length=7)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_month', fields.CharField(null=True, max_length=7)),
                ('draft_to_filing_s', fields.BigIntField()),
                ('price_fen', fields.BigIntField()),
                ('building_area_dm2', fields.BigIntField()),
                ('ratings', fields.IntField(default=0)),
                ('rating_sum', fields.IntField(default=0)),
            ],
            options={'table': 'filing_facts', 'app': 'models', 'indexes': [Index(fields=['region_code', 'filed_at']), Index(fields=['region_code', 'revoked_at'])], 'pk_attr': 'contract_id', 'table_description': "What the housing authority's statistics need of one filed contract, and nothing"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ServiceRating',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('contract', fields.ForeignKeyField('models.Contract', source_field='contract_id', db_constraint=True, to_field='id', related_name='ratings', on_delete=OnDelete.CASCADE)),
                ('party', fields.ForeignKeyField('models.Party', source_field='party_id', db_constraint=True, to_field='id', related_name='ratings', on_delete=OnDelete.CASCADE)),
                ('score', fields.SmallIntField()),
                ('comment', fields.CharField(default='', max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'service_ratings', 'app': 'models', 'unique_together': (('contract', 'party'),), 'pk_attr': 'id', 'table_description': "One party's rating of the service after filing (好差评): once per party."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StaffMember',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=32)),
                ('name', fields.CharField(max_length=64)),
                ('service_point', fields.CharField(max_length=128)),
                ('region_code', fields.CharField(db_index=True, max_length=6)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='staff_member', on_delete=OnDelete.CASCADE)),
                ('password_hash', fields.CharField(max_length=160)),
                ('must_change_password', fields.BooleanField(default=True)),
                ('password_changed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('disabled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'staff_members', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A member of staff at a service point (代理签约), bound to one region.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Contract',
            name='service_point',
            field=fields.CharField(null=True, max_length=128),
        ),
        ops.AddField(
            model_name='Contract',
            name='staff_id',
            field=fields.CharField(null=True, db_index=True, max_length=32),
        ),
        ops.AddField(
            model_name='WebhookEndpoint',
            name='agency_client_id',
            field=fields.CharField(null=True, db_index=True, max_length=40),
        ),
        ops.RunPython(backfill_filing_facts, ops.RunPython.noop),
    ]
