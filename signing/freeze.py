"""Freezing a contract in one trip to a worker process: render, then prepare for signing.

Done together so the PDF is not shipped back and forth between the app and
the pool in between; the result is the document the parties sign.
"""

from __future__ import annotations

from signing import worker
from signing.document import ContractDocument
from signing.render import render_contract


def render_and_prepare(doc: ContractDocument, font_dirs: list[str] | None) -> bytes:
    """The rendered contract with every signature field and the platform's certification."""
    rendered = render_contract(doc, font_dirs)
    return worker.prepare(rendered.pdf, rendered.slots)


def ping() -> bool:
    """For readiness: the pool process has its PKI open."""
    worker.current_pki()
    return True
