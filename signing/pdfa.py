"""Keeping the contract PDF/A-2b through every signature (ISO 19005-2).

PDF/A-2 is based on PDF 1.7: the header, the catalog's ``/Version`` (if any)
and the XMP ``pdfaid`` properties must keep agreeing with that. pyHanko,
signing with ECDSA on a NIST curve, declares the ISO/TS 32002 extension, and
that extension is defined for PDF 2.0 only, so it raises the catalog to
``/Version /2.0``. A PAdES signature in PDF 1.7 is declared with the ESIC
extension (BaseVersion 1.7) instead, which pyHanko adds itself below 2.0:
:class:`PdfA2Writer` keeps the version at 1.7 and leaves out extensions
based on PDF 2.0.

pyHanko rewrites the XMP packet on every incremental update (producer,
modification date); namespaces it does not know come out as ``ns0:``,
``ns3:``... Registering the customary prefixes keeps ``xmpMM:``,
``xmpTPg:`` and friends readable for archive tools (``pdfaid:`` pyHanko
knows already).

A signature's revision can leave the metadata alone (``keep_metadata``):
the signature carries its own time, the info dictionary and the XMP packet
keep agreeing because neither changes, and parsing, updating and writing
the packet again was about an eighth of a party signature's CPU (and a new
metadata stream in every revision).
"""

from __future__ import annotations

from typing import Any

from lxml import etree
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

__all__ = ["PDF_VERSION", "PdfA2Writer"]

PDF_VERSION = (1, 7)

_XMP_PREFIXES = {
    "xmpMM": "http://ns.adobe.com/xap/1.0/mm/",
    "xmpTPg": "http://ns.adobe.com/xap/1.0/t/pg/",
    "stEvt": "http://ns.adobe.com/xap/1.0/sType/ResourceEvent#",
    "stRef": "http://ns.adobe.com/xap/1.0/sType/ResourceRef#",
    "xmpRights": "http://ns.adobe.com/xap/1.0/rights/",
    "pdfx": "http://ns.adobe.com/pdfx/1.3/",
}
for _prefix, _uri in _XMP_PREFIXES.items():
    etree.register_namespace(_prefix, _uri)  # the registry pyHanko serialises XMP with


class PdfA2Writer(IncrementalPdfFileWriter):
    """An incremental writer that never lifts the document above PDF 1.7."""

    def __init__(self, stream: Any, *, keep_metadata: bool = False, **kwargs: Any) -> None:
        super().__init__(stream, **kwargs)
        self._keep_metadata = keep_metadata

    def _update_meta(self) -> None:
        if not self._keep_metadata:
            super()._update_meta()

    def ensure_output_version(self, version: tuple[int, int]) -> None:
        super().ensure_output_version(min(tuple(version), PDF_VERSION))

    def register_extension(self, ext: Any) -> None:
        base = str(getattr(ext, "base_version", "/1.7")).lstrip("/")
        if tuple(int(p) for p in base.split(".")) > PDF_VERSION:
            return  # an extension of PDF 2.0 (ISO/TS 32001, 32002): not in a PDF/A-2 file
        super().register_extension(ext)
