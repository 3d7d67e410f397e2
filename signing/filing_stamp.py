"""The filing seal's visible appearance: the round seal, and the filing printed under it.

The seal itself is a pre-rendered image (:mod:`signing.seal`); the filing
number and date below it are real text, laid out by typst with embedded font
subsets (PDF/A-2b), so that ``pdftotext`` finds them and a printout carries
them. The appearance paints paper white over the whole field first: the
template's "备案印章区" placeholder must not show through the seal.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import date
from io import BytesIO

import typst
from pyhanko.pdf_utils import layout
from pyhanko.pdf_utils.content import AppearanceContent, ResourceType
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.stamp import BaseStampStyle

from signing.appearance import EncodedImage
from signing.fonts import find_fonts
from signing.render import PDF_STANDARD, TEMPLATE_DIR

__all__ = ["FilingStampStyle", "format_filing_date", "text_band"]

_TEMPLATE = TEMPLATE_DIR / "filing_stamp.typ"
_FONTS = ["Noto Serif CJK SC", "Noto Serif SC", "Noto Sans CJK SC", "Noto Sans SC"]
_lock = threading.Lock()
_compilers: dict[tuple[str, ...], tuple[typst.Compiler, list[str]]] = {}
TEXT_BAND = 0.2  # share of the field's height under the seal that holds the two lines


def format_filing_date(filed_on: date) -> str:
    return f"{filed_on.year}年{filed_on.month:02d}月{filed_on.day:02d}日"


def _compiler(font_dirs: tuple[str, ...]) -> tuple[typst.Compiler, list[str]]:
    found = _compilers.get(font_dirs)
    if found is None:
        fonts = find_fonts(list(font_dirs) or None)
        book = typst.Fonts(include_system_fonts=False, include_embedded_fonts=False,
                           font_paths=list(fonts.dirs))
        families = [f for f in _FONTS if f in set(book.families())] or sorted(book.families())
        compiler = typst.Compiler(input=str(_TEMPLATE), root=str(TEMPLATE_DIR), font_paths=book)
        found = _compilers[font_dirs] = (compiler, families)
    return found


def text_band(filing_no: str, filed_on: date, width: float, height: float,
              font_dirs: tuple[str, ...] = ()) -> bytes:
    """A one-page PDF (``width`` × ``height`` pt) with the two filing lines."""
    # five CJK characters and the digits (about 0.55 em each), with a margin each side
    size = min(height / 2.6, (width - 8) / (5 + 0.58 * max(len(filing_no), 11)))
    with _lock:
        compiler, families = _compiler(font_dirs)
        data = {"width": width, "height": height, "size": round(size, 2), "fonts": families,
                "filing_no": filing_no, "filed_on": format_filing_date(filed_on)}
        pdf = compiler.compile(format="pdf", sys_inputs={"data": json.dumps(data)},
                               pdf_standards=[PDF_STANDARD])
    assert isinstance(pdf, bytes)
    return pdf


class _FilingStamp(AppearanceContent):
    def __init__(self, writer: BasePdfFileWriter, style: FilingStampStyle,
                 box: layout.BoxConstraints) -> None:
        super().__init__(writer=writer, box=box)
        self.style = style

    def render(self) -> bytes:
        w, h = self.box.width, self.box.height
        band = h * TEXT_BAND
        side = min(w, h - band)
        self.set_resource(ResourceType.XOBJECT, pdf_name("/Seal"),
                          self.style.seal.write(self.writer))
        text = text_band(self.style.filing_no, self.style.filed_on, w, band)
        xobject = self.writer.import_page_as_xobject(PdfFileReader(BytesIO(text)))
        self.set_resource(ResourceType.XOBJECT, pdf_name("/Filing"), xobject)
        inset = 2.0
        return (
            # paper white inside the dashed border: no placeholder under the seal
            b"q 1 g %g %g %g %g re f Q " % (inset, inset, w - 2 * inset, h - 2 * inset)
            + b"q %g 0 0 %g %g %g cm /Seal Do Q " % (side, side, (w - side) / 2, band)
            + b"q /Filing Do Q"
        )


@dataclass(frozen=True)
class FilingStampStyle(BaseStampStyle):
    seal: EncodedImage | None = None
    filing_no: str = ""
    filed_on: date = date(1970, 1, 1)
    border_width: int = 0

    def create_stamp(self, writer: BasePdfFileWriter, box: layout.BoxConstraints,
                     text_params: dict) -> _FilingStamp:
        if self.seal is None or not self.filing_no:
            raise ValueError("FilingStampStyle needs the seal image and the filing number")
        return _FilingStamp(writer, self, box)

