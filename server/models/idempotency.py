"""Stored first answers for requests sent with an ``Idempotency-Key``."""

from tortoise import fields
from tortoise.models import Model


class IdempotencyRecord(Model):
    id = fields.IntField(pk=True)
    scope = fields.CharField(max_length=64)  # the caller: user or registry client
    key = fields.CharField(max_length=128)
    request_hash = fields.CharField(max_length=64)
    status = fields.IntField()
    body = fields.BinaryField()
    content_type = fields.CharField(max_length=64)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "idempotency_records"
        unique_together = (("scope", "key"),)
