"""The PKI's shared, durable state: which of our certificates are revoked."""

from tortoise import fields
from tortoise.models import Model


class CertificateRevocation(Model):
    """One revoked certificate, recorded once and never removed.

    The first revocation of a serial is the one every CRL and OCSP answer has
    published since."""

    id = fields.BigIntField(pk=True)
    ca = fields.CharField(max_length=16)  # root | issuing
    serial = fields.CharField(max_length=48)  # hex
    reason = fields.CharField(max_length=32)
    revoked_at = fields.DatetimeField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "certificate_revocations"
        unique_together = (("ca", "serial"),)
