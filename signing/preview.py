"""Page images of a contract PDF, for the parties to read on their phones.

The mini-program shows the contract page by page before each party signs;
what they see must be the PDF they sign, not a separate HTML rendering, so
pages are rasterised from the actual PDF bytes. PDFium (pypdfium2) reads the
incremental updates a signed PDF accumulates and draws the signature and
seal appearances, so the same function previews a signed or filed contract.
"""

from __future__ import annotations

import io
import threading

import pypdfium2 as pdfium

# PDFium is not thread-safe; a process-wide lock keeps threaded callers safe
# (the process pool gives real parallelism).
_pdfium_lock = threading.Lock()

MIN_WIDTH_PX = 50
MAX_WIDTH_PX = 4000


class PageOutOfRange(ValueError):
    """The requested page does not exist in this PDF."""

    def __init__(self, page: int, count: int) -> None:
        super().__init__(f"page {page} out of range: the document has {count} page(s)")
        self.page = page
        self.count = count


def page_count(pdf: bytes) -> int:
    """Number of pages of ``pdf``."""
    with _pdfium_lock:
        document = pdfium.PdfDocument(pdf)
        try:
            return len(document)
        finally:
            document.close()


def render_page_png(pdf: bytes, page: int, width_px: int = 750) -> bytes:
    """PNG of 1-based ``page`` of ``pdf``, ``width_px`` wide (height keeps the aspect).

    Raises :class:`PageOutOfRange` for a page that does not exist and
    ValueError for an unreasonable width (it comes from a client request).
    """
    if isinstance(page, bool) or not isinstance(page, int):
        raise ValueError("page must be an int")
    if not MIN_WIDTH_PX <= width_px <= MAX_WIDTH_PX:
        raise ValueError(f"width_px must be between {MIN_WIDTH_PX} and {MAX_WIDTH_PX}")
    with _pdfium_lock:
        document = pdfium.PdfDocument(pdf)
        try:
            count = len(document)
            if not 1 <= page <= count:
                raise PageOutOfRange(page, count)
            # Signature widgets are form fields: without the form environment
            # PDFium may skip their appearance streams.
            document.init_forms()
            pdf_page = document[page - 1]
            try:
                # PDFium sizes the bitmap with ceil(); shave a hair off the
                # scale so float noise cannot add a pixel column.
                scale = (width_px - 1e-6) / pdf_page.get_width()
                bitmap = pdf_page.render(scale=scale, may_draw_forms=True)
                image = bitmap.to_pil()
            finally:
                pdf_page.close()
        finally:
            document.close()
    out = io.BytesIO()
    image.convert("RGB").save(out, format="PNG", optimize=False)
    return out.getvalue()
