"""Filing sequences, the registry change feed, and the webhook outbox."""

from tortoise import fields
from tortoise.models import Model


class SequenceCounter(Model):
    """A gap-free counter (filing numbers per region and year, feed positions).

    Incremented under a row lock inside the transaction that uses the value,
    so a rolled-back transaction leaves no gap and commits happen in order.
    """

    name = fields.CharField(pk=True, max_length=64)
    value = fields.BigIntField(default=0)

    class Meta:
        table = "sequence_counters"


class FeedEntry(Model):
    id = fields.BigIntField(pk=True)
    position = fields.BigIntField(unique=True)
    region_code = fields.CharField(max_length=6, db_index=True)
    event = fields.CharField(max_length=32)  # filed | revoked | accepted | registered
    filing_no = fields.CharField(max_length=32)
    contract_id = fields.CharField(max_length=32)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "feed_entries"


class WebhookEndpoint(Model):
    id = fields.IntField(pk=True)
    region_code = fields.CharField(max_length=6, db_index=True)
    url = fields.CharField(max_length=512)
    secret = fields.CharField(max_length=128)
    active = fields.BooleanField(default=True)
    # Set for an agency's endpoint (a tax client's): it gets its own events, not the
    # registration office's.
    agency_client_id = fields.CharField(max_length=40, null=True, db_index=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "webhook_endpoints"


class WebhookDelivery(Model):
    """The transactional outbox: written in the same transaction as the event it announces."""

    id = fields.BigIntField(pk=True)
    endpoint = fields.ForeignKeyField("models.WebhookEndpoint", related_name="deliveries")
    event = fields.CharField(max_length=32)
    payload = fields.JSONField()
    status = fields.CharField(max_length=16, default="pending", db_index=True)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(db_index=True)
    last_error = fields.TextField(null=True)
    history = fields.JSONField(default=list)
    created_at = fields.DatetimeField(auto_now_add=True)
    delivered_at = fields.DatetimeField(null=True)

    class Meta:
        table = "webhook_deliveries"
