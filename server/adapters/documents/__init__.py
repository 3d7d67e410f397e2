"""Where the PDFs live: a content-addressed document store behind one port.

Every PDF the service keeps (draft previews, each signed revision, filed and
renewed originals, evidence reports) is stored by its SHA-256, which is also what
the registry and the verification page publish. Two adapters implement
:class:`DocumentStore`:

* :class:`FileDocumentStore`: files under ``DATA_DIR/files``, the embedded default;
* :class:`DatabaseDocumentStore`: chunks in the database, so several hosts on one
  PostgreSQL serve the same documents without a shared disk.
"""

from server.adapters.documents.database import DatabaseDocumentStore
from server.adapters.documents.files import FileDocumentStore
from server.adapters.documents.port import DocumentMissing, DocumentStore

__all__ = ["DatabaseDocumentStore", "DocumentMissing", "DocumentStore", "FileDocumentStore"]
