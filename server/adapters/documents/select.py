"""Which document store a deployment uses (``DOCUMENT_STORE``)."""

from __future__ import annotations

from server.adapters.documents.database import DatabaseDocumentStore
from server.adapters.documents.files import FileDocumentStore
from server.adapters.documents.port import DocumentStore
from server.config import Settings


def open_document_store(settings: Settings) -> DocumentStore:
    if settings.document_store == "database":
        return DatabaseDocumentStore()
    return FileDocumentStore(settings.files_dir)
