"""Visible signature appearances as single pre-rendered images.

pyHanko's text stamps lay text out with an embedded font; for CJK text that
means subsetting a 10–20 MB OpenType font on every signature (≈ 400 ms).
Here the whole appearance — the party's handwriting plus the printed name and
time, or the authority's seal — is one image drawn with Pillow (fonts loaded
once per process), embedded as an image XObject with a soft mask, and painted
over the signature field's box by :class:`ImageStampStyle`.

Images are Flate-encoded here, once, and handed to pyHanko as already-encoded
streams, so a cached image (the seal) costs no compression at all per use.
"""

from __future__ import annotations

import threading
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps
from pyhanko.pdf_utils import generic, layout
from pyhanko.pdf_utils.content import AppearanceContent, ResourceType
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.stamp import BaseStampStyle

from signing.fonts import find_fonts

__all__ = [
    "CHINA_TZ",
    "EncodedImage",
    "ImageStampStyle",
    "party_appearance",
    "text_font_path",
]

CHINA_TZ = timezone(timedelta(hours=8))
PIXELS_PER_POINT = 3.0  # 216 dpi: crisp in print, small in the file
INK_GRAY = 18  # the handwriting: near-black
TEXT_GRAY = 70  # printed name/time: dark gray, so the handwriting stands out
_lock = threading.Lock()


@dataclass(frozen=True)
class EncodedImage:
    """An image as ready-to-write PDF stream data: Flate colour (+ soft mask)."""

    width: int
    height: int
    color_space: str  # "/DeviceGray" | "/DeviceRGB"
    data: bytes
    smask: bytes | None

    @classmethod
    def from_pil(cls, image: Image.Image, level: int = 6) -> EncodedImage:
        if image.mode not in ("L", "LA", "RGB", "RGBA"):
            image = image.convert("RGBA")
        smask = None
        if image.mode.endswith("A"):
            smask = zlib.compress(image.getchannel("A").tobytes(), level)
            image = image.convert(image.mode[:-1])
        return cls(
            width=image.width,
            height=image.height,
            color_space="/DeviceGray" if image.mode == "L" else "/DeviceRGB",
            data=zlib.compress(image.tobytes(), level),
            smask=smask,
        )

    def _stream(self, color_space: str, data: bytes) -> generic.StreamObject:
        return generic.StreamObject(
            {
                pdf_name("/Type"): pdf_name("/XObject"),
                pdf_name("/Subtype"): pdf_name("/Image"),
                pdf_name("/Width"): generic.NumberObject(self.width),
                pdf_name("/Height"): generic.NumberObject(self.height),
                pdf_name("/ColorSpace"): pdf_name(color_space),
                pdf_name("/BitsPerComponent"): generic.NumberObject(8),
                pdf_name("/Filter"): pdf_name("/FlateDecode"),
            },
            encoded_data=data,
        )

    def write(self, writer: BasePdfFileWriter) -> generic.IndirectObject:
        """Add the image (and its soft mask) to ``writer``; returns the image reference."""
        image = self._stream(self.color_space, self.data)
        if self.smask is not None:
            image[pdf_name("/SMask")] = writer.add_object(self._stream("/DeviceGray", self.smask))
        return writer.add_object(image)


class _ImageStamp(AppearanceContent):
    """Appearance stream painting one image over the whole field box."""

    def __init__(self, writer: BasePdfFileWriter, image: EncodedImage, box: layout.BoxConstraints):
        super().__init__(writer=writer, box=box)
        self.image = image

    def render(self) -> bytes:
        self.set_resource(ResourceType.XOBJECT, pdf_name("/Im0"), self.image.write(self.writer))
        return b"q %g 0 0 %g 0 0 cm /Im0 Do Q" % (self.box.width, self.box.height)


@dataclass(frozen=True)
class ImageStampStyle(BaseStampStyle):
    """Stamp style whose appearance is exactly one pre-encoded image.

    The image is stretched to the field's box, so render it at the box's
    aspect ratio (:func:`party_appearance` does).
    """

    image: EncodedImage | None = None
    border_width: int = 0

    def create_stamp(
        self, writer: BasePdfFileWriter, box: layout.BoxConstraints, text_params: dict
    ) -> _ImageStamp:
        if self.image is None:
            raise ValueError("ImageStampStyle needs an image")
        return _ImageStamp(writer, self.image, box)


def text_font_path(font_dirs: tuple[str, ...] | None = None) -> Path:
    """The sans CJK font for printed names (any CJK font if there is no sans)."""
    fonts = find_fonts(list(font_dirs) if font_dirs else None)
    for path in fonts.paths:
        if "sans" in path.name.lower():
            return path
    return fonts.paths[0]


@lru_cache(maxsize=16)
def _font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size)


def _fitting_font(
    path: Path, text: str, max_width: float, max_height: float
) -> ImageFont.FreeTypeFont:
    # size buckets of 2 px keep the font cache small across box sizes
    size = max(8, int(max_height) // 2 * 2)
    while size > 8:
        font = _font(path, size)
        left, _, right, _ = font.getbbox(text)
        if right - left <= max_width:
            return font
        size -= 2
    return _font(path, 8)


def format_signing_time(signed_at: datetime) -> str:
    """Beijing time, to the minute, as printed under the signature."""
    if signed_at.tzinfo is None:
        raise ValueError("signed_at must be timezone-aware")
    return signed_at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")


def party_appearance(
    ink: Image.Image,
    name: str,
    signed_at: datetime,
    box_width: float,
    box_height: float,
    *,
    font_dirs: tuple[str, ...] | None = None,
) -> Image.Image:
    """The party's signature box: handwriting above, name and time printed below.

    ``ink`` is the handwriting as a mask (:func:`~signing.signature_image.signature_ink`,
    or the alpha of a normalised signature); the result is an ``LA`` image at
    the box's aspect ratio (gray + alpha: one colour channel to encode, not three).
    """
    width = max(1, round(box_width * PIXELS_PER_POINT))
    height = max(1, round(box_height * PIXELS_PER_POINT))
    canvas = Image.new("LA", (width, height), (255, 0))
    # paper-white inside the box, so the template's "sign here" hint does not
    # show through; the box's own border (outermost points) stays visible
    inset = round(2 * PIXELS_PER_POINT)
    ImageDraw.Draw(canvas).rectangle(
        (inset, inset, width - 1 - inset, height - 1 - inset), fill=(255, 255)
    )
    pad = round(height * 0.04) + inset
    text_height = round(height * 0.24)
    ink_box = (width - 2 * pad, height - text_height - 2 * pad)

    if ink.mode in ("RGBA", "LA"):
        ink = ink.getchannel("A")
    bbox = ink.getbbox()
    if bbox is not None:
        ink = ImageOps.contain(ink.crop(bbox), ink_box, Image.Resampling.BILINEAR)
        left = (width - ink.width) // 2
        top = pad + (ink_box[1] - ink.height) // 2
        canvas.paste((INK_GRAY, 255), (left, top, left + ink.width, top + ink.height), ink)

    text = f"{name.strip()}  {format_signing_time(signed_at)}"
    font = _fitting_font(text_font_path(font_dirs), text, width - 2 * pad, text_height * 0.8)
    draw = ImageDraw.Draw(canvas)
    left, top, right, bottom = font.getbbox(text)
    x = (width - (right - left)) / 2 - left
    y = height - pad - text_height + (text_height - (bottom - top)) / 2 - top
    draw.text((x, y), text, font=font, fill=(TEXT_GRAY, 255))
    return canvas


def warm_up(font_dirs: tuple[str, ...] | None = None) -> None:
    """Open the fonts now (worker start-up) instead of in the first signature."""
    with _lock:
        path = text_font_path(font_dirs)
        _font(path, 48)
