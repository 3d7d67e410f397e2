"""The party's handwritten signature, as drawn on the phone: checked and normalised.

The mini-program exports the signing canvas as a PNG (usually base64 in a
JSON body). It becomes part of a legal document, so anything that is not
clearly a drawn signature is refused with a machine-readable reason instead
of being embedded: undecodable data, other formats, oversized uploads (a
memory/CPU bomb in a signing worker), and empty canvases (a party who
pressed "confirm" without drawing).

Accepted images are normalised so every signature looks alike in the PDF:
cropped to the ink, re-coloured as dark ink on transparency whatever the
canvas background was, and fitted into a fixed box.
"""

from __future__ import annotations

import base64
import binascii
import io
from dataclasses import dataclass

from PIL import Image, ImageChops, ImageOps

__all__ = [
    "DEFAULT_LIMITS",
    "InvalidSignatureImage",
    "SignatureImageLimits",
    "decode_base64_image",
    "normalise_signature_image",
    "normalise_signature_png",
    "signature_ink",
]

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
INK_RGB = (18, 18, 24)  # near-black, slightly blue, like a gel pen


class InvalidSignatureImage(ValueError):
    """The uploaded signature image is refused.

    ``reason_code`` is stable for API clients: ``bad_base64``, ``not_png``,
    ``too_large`` (bytes), ``bad_dimensions`` (pixels), ``corrupt``, ``blank``.
    """

    def __init__(self, reason_code: str, message: str):
        super().__init__(message)
        self.reason_code = reason_code
        self.message = message


@dataclass(frozen=True)
class SignatureImageLimits:
    max_bytes: int = 512 * 1024
    max_width: int = 2000
    max_height: int = 2000
    min_width: int = 50
    min_height: int = 20
    # fewer ink pixels than this is a tap or a speck of noise, not a signature
    min_ink_pixels: int = 40
    # output box every signature is fitted into (pixels, 5:2 like a signing line)
    box_width: int = 600
    box_height: int = 240


DEFAULT_LIMITS = SignatureImageLimits()


def decode_base64_image(data: str | bytes, limits: SignatureImageLimits = DEFAULT_LIMITS) -> bytes:
    """Bytes of a base64 image, with or without a ``data:image/png;base64,`` prefix.

    The size is checked on the encoded length first, so an oversized upload
    is refused before it is decoded.
    """
    if isinstance(data, str):
        try:
            data = data.encode("ascii")
        except UnicodeEncodeError:
            raise InvalidSignatureImage("bad_base64", "signature image is not base64") from None
    data = data.strip()
    if data.startswith(b"data:"):
        header, sep, data = data.partition(b",")
        if not sep or not header.endswith(b";base64"):
            raise InvalidSignatureImage("bad_base64", "signature image data URL is not base64")
    if len(data) * 3 // 4 > limits.max_bytes + 3:
        raise InvalidSignatureImage(
            "too_large", f"signature image exceeds {limits.max_bytes // 1024} KiB"
        )
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidSignatureImage("bad_base64", "signature image is not valid base64") from None


def _open_png(png: bytes, limits: SignatureImageLimits) -> Image.Image:
    if len(png) > limits.max_bytes:
        raise InvalidSignatureImage(
            "too_large", f"signature image exceeds {limits.max_bytes // 1024} KiB"
        )
    if not png.startswith(PNG_MAGIC):
        raise InvalidSignatureImage("not_png", "signature image must be a PNG")
    if len(png) < 24 or png[12:16] != b"IHDR":
        raise InvalidSignatureImage("corrupt", "signature image cannot be read")
    # read from the header, before Pillow looks at it: a 50 KB PNG can inflate
    # to gigabytes, and Pillow's own bomb check only starts at ~90 megapixels
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    if width > limits.max_width or height > limits.max_height:
        raise InvalidSignatureImage(
            "bad_dimensions",
            f"signature image is {width}×{height}, at most "
            f"{limits.max_width}×{limits.max_height} allowed",
        )
    if width < limits.min_width or height < limits.min_height:
        raise InvalidSignatureImage(
            "bad_dimensions",
            f"signature image is {width}×{height}, at least "
            f"{limits.min_width}×{limits.min_height} needed",
        )
    try:
        image = Image.open(io.BytesIO(png), formats=["PNG"])
        image.load()
    except Exception:  # noqa: BLE001
        raise InvalidSignatureImage("corrupt", "signature image data is damaged") from None
    return image


def _ink_mask(image: Image.Image) -> Image.Image:
    """Ink strength per pixel (L, 0 = paper) for any canvas style.

    Transparent canvases: ink is whatever is opaque. Opaque canvases (white,
    or any colour): ink is what differs from the background, taken as the
    median colour of the border, so dark-on-light and light-on-dark both work.
    """
    rgba = image.convert("RGBA")
    alpha = rgba.getchannel("A")
    lo, _ = alpha.getextrema()
    if lo < 250:
        # premultiply: a transparent pixel's colour is meaningless
        # (canvases often store white or black there)
        return alpha.point(lambda a: 0 if a < 24 else a)
    gray = rgba.convert("L")
    width, height = gray.size
    border = (
        list(gray.crop((0, 0, width, 1)).getdata())
        + list(gray.crop((0, height - 1, width, height)).getdata())
        + list(gray.crop((0, 0, 1, height)).getdata())
        + list(gray.crop((width - 1, 0, width, height)).getdata())
    )
    background = sorted(border)[len(border) // 2]
    diff = ImageChops.difference(gray, Image.new("L", gray.size, background))
    # anti-aliasing and JPEG-ish noise below ~10% contrast is paper, not ink
    return diff.point(lambda d: 0 if d < 28 else min(255, d * 2))


def signature_ink(png: bytes, limits: SignatureImageLimits = DEFAULT_LIMITS) -> Image.Image:
    """Check a signature PNG and return its ink, cropped, as an ``L`` mask (255 = ink).

    Raises :class:`InvalidSignatureImage`. The signing path uses this
    directly and scales the ink once, into the signature box.
    """
    image = _open_png(png, limits)
    mask = _ink_mask(image)
    bbox = mask.getbbox()
    histogram = mask.histogram()
    ink_pixels = image.width * image.height - histogram[0]
    if bbox is None or ink_pixels < limits.min_ink_pixels:
        raise InvalidSignatureImage("blank", "signature image is empty")
    strong = sum(histogram[128:])
    if strong >= 0.9 * image.width * image.height:
        # everything is "ink": a filled canvas or a photo, not a signature
        raise InvalidSignatureImage("blank", "signature image has no distinguishable ink")
    return mask.crop(bbox)


def normalise_signature_image(
    png: bytes, limits: SignatureImageLimits = DEFAULT_LIMITS
) -> Image.Image:
    """Check a signature PNG and return it as RGBA dark ink on transparent, box-sized.

    Raises :class:`InvalidSignatureImage`.
    """
    ink = signature_ink(png, limits)
    fitted = ImageOps.contain(ink, (limits.box_width, limits.box_height), Image.Resampling.LANCZOS)
    out_alpha = Image.new("L", (limits.box_width, limits.box_height), 0)
    out_alpha.paste(
        fitted,
        ((limits.box_width - fitted.width) // 2, (limits.box_height - fitted.height) // 2),
    )
    result = Image.new("RGBA", out_alpha.size, (*INK_RGB, 0))
    result.putalpha(out_alpha)
    return result


def normalise_signature_png(png: bytes, limits: SignatureImageLimits = DEFAULT_LIMITS) -> bytes:
    """:func:`normalise_signature_image`, encoded as PNG (what the app stores).

    Stored as gray + alpha: half the channels of RGBA to decode at signing time.
    """
    image = normalise_signature_image(png, limits)
    out = io.BytesIO()
    # optimize=True would cost ~30 ms per signature for a file 1% smaller.
    image.convert("LA").save(out, format="PNG")
    return out.getvalue()
