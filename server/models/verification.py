"""What the public PDF check keeps of its own: the validation of each filed document."""

from tortoise import fields
from tortoise.models import Model


class FiledDocumentReport(Model):
    """The signature validation of one filed (or renewed) document, by its SHA-256.

    Masked as the public check shows it. Good only under the revocations it was
    computed with (``revocations``: their version) and for a limited time; see
    :mod:`server.services.verification.filed_reports`."""

    sha256 = fields.CharField(max_length=64, pk=True)
    report = fields.JSONField(null=True)  # {valid, signatures, checked_by}; null: unreadable
    revocations = fields.CharField(max_length=64)
    validated_at = fields.DatetimeField()

    class Meta:
        table = "filed_document_reports"
