"""Edits a user's PDF tool makes to a filed document, for tests and benchmarks."""

from __future__ import annotations

import io

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter


def add_revision(pdf: bytes) -> bytes:
    """A well-formed incremental update on top of ``pdf`` (what editing the PDF in a tool does)."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    writer.root["/Lang"] = generic.TextStringObject("en")
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
