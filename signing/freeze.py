"""Freezing a sale in one trip to a worker process: render, then prepare for signing.

Done together so the PDFs are not shipped back and forth between the app and
the pool in between; the results are the documents the parties sign. Every
document of the sale (the contract, the funds-custody agreement, the notice)
is rendered and prepared in the same job: all of them, or an exception.
"""

from __future__ import annotations

from collections.abc import Sequence

from signing import worker
from signing.document import CONTRACT, ContractDocument
from signing.render import render_document


def render_and_prepare(doc: ContractDocument, font_dirs: list[str] | None) -> bytes:
    """The rendered contract with every signature field and the platform's certification."""
    return render_and_prepare_all([(CONTRACT, doc)], font_dirs)[CONTRACT]


def render_and_prepare_all(docs: Sequence[tuple[str, ContractDocument]],
                           font_dirs: list[str] | None) -> dict[str, bytes]:
    """Each ``(kind, document)`` rendered with its own template and QR code, then given
    its signature fields and certified; by kind."""
    out = {}
    for kind, doc in docs:
        rendered = render_document(kind, doc, font_dirs)
        out[kind] = worker.prepare(rendered.pdf, rendered.slots)
    return out


def ping() -> bool:
    """For readiness: the pool process has its PKI open."""
    worker.current_pki()
    return True
