"""Document bytes kept in the database (the :class:`DatabaseDocumentStore` adapter).

A document is one ``DocumentBlob`` row, written in the same transaction as its
chunks and after them, so a reader that finds the blob finds every chunk.
"""

from tortoise import fields
from tortoise.models import Model


class DocumentBlob(Model):
    sha256 = fields.CharField(pk=True, max_length=64)
    size = fields.BigIntField()
    chunks = fields.IntField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "document_blobs"


class DocumentChunk(Model):
    id = fields.BigIntField(pk=True)
    sha256 = fields.CharField(max_length=64)
    seq = fields.IntField()
    data = fields.BinaryField()

    class Meta:
        table = "document_chunks"
        unique_together = (("sha256", "seq"),)
