"""The filing authority's seal (网签备案专用章): its picture, and what its signature is.

**The seal's signature** (:func:`seal_contents`) is the one place that decides
what goes into the seal field's ``/Contents``; :class:`SealSigner` hands it
to pyHanko. Today, in both signing suites, it is a CMS SignedData (PAdES
B-T) by the seal key with a signature timestamp — ECDSA/SHA-256, or SM2/SM3
with ``SIGNING_SUITE=sm2``. Under the SM2 suite it is to become a GB/T 38540
electronic seal (an ``SES_Signature`` over the document's SM3 hash holding the
``SES_Seal``, :mod:`signing.gm.ses`): only :func:`seal_contents` changes.

**The picture**: a round red seal, drawn with Pillow.

Laid out like a Chinese official seal (GA 241 style): a red ring, the
authority's name set along the upper arc with every character upright
towards the centre, a solid five-pointed star in the middle, and the seal's
purpose set straight below the star. Characters are drawn with the serif
(宋体-like) CJK font, thickened with a stroke as seal engravings are.

The image is drawn once per authority name and process (4× supersampled,
then reduced, for smooth edges) and reused for every filing: drawing it
costs tens of milliseconds, embedding a cached one nothing.
"""

from __future__ import annotations

import math
import threading
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image, ImageDraw, ImageFont
from pyhanko.sign.signers import Signer
from pyhanko.sign.timestamps import TimeStamper

from signing.fonts import find_fonts
from signing.pki.cms import KeySigner

if TYPE_CHECKING:  # pragma: no cover
    from signing.pki import Pki

__all__ = [
    "SEAL_CAPTION",
    "SEAL_RED",
    "SealSigner",
    "seal_contents",
    "seal_font_path",
    "seal_image",
    "seal_signer",
]

SEAL_RED = (230, 0, 18)
SEAL_CAPTION = "网签备案专用章"
_SUPERSAMPLE = 4
_lock = threading.Lock()


def seal_font_path(font_dirs: tuple[str, ...] | None = None) -> Path:
    """The serif CJK font used for seal text (falls back to any CJK font found)."""
    fonts = find_fonts(list(font_dirs) if font_dirs else None)
    for path in fonts.paths:
        if "serif" in path.name.lower():
            return path
    return fonts.paths[0]


@lru_cache(maxsize=32)
def _font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    # Opening a 10–20 MB CJK font costs ~10 ms; keep one per size
    return ImageFont.truetype(str(path), size)


def _star(draw: ImageDraw.ImageDraw, cx: float, cy: float, radius: float) -> None:
    # five outer points, inner radius from the regular pentagram (sin18°/sin126°)
    inner = radius * math.sin(math.radians(18)) / math.sin(math.radians(126))
    points = []
    for i in range(10):
        r = radius if i % 2 == 0 else inner
        angle = math.radians(-90 + i * 36)
        points.append((cx + r * math.cos(angle), cy + r * math.sin(angle)))
    draw.polygon(points, fill=SEAL_RED)


def _glyph(char: str, font: ImageFont.FreeTypeFont, stroke: int, x_scale: float) -> Image.Image:
    """One character on its own transparent tile, narrowed as seal lettering is."""
    left, top, right, bottom = font.getbbox(char, stroke_width=stroke)
    tile = Image.new("L", (right - left + 2, bottom - top + 2), 0)
    ImageDraw.Draw(tile).text(
        (1 - left, 1 - top), char, font=font, fill=255, stroke_width=stroke, stroke_fill=255
    )
    if x_scale != 1.0:
        tile = tile.resize((max(1, round(tile.width * x_scale)), tile.height))
    return tile


def _paste_red(canvas: Image.Image, mask: Image.Image, center: tuple[float, float]) -> None:
    x = round(center[0] - mask.width / 2)
    y = round(center[1] - mask.height / 2)
    canvas.paste(SEAL_RED, (x, y, x + mask.width, y + mask.height), mask)


def _draw_seal(authority_name: str, caption: str, size: int, font_path: Path) -> Image.Image:
    s = size * _SUPERSAMPLE
    canvas = Image.new("RGBA", (s, s), (*SEAL_RED, 0))
    draw = ImageDraw.Draw(canvas)
    c = s / 2
    ring = s * 0.035
    outer = s / 2 - ring / 2 - s * 0.02
    draw.ellipse((c - outer, c - outer, c + outer, c + outer), outline=SEAL_RED, width=round(ring))

    _star(draw, c, c, s * 0.17)

    # the name along the upper arc, left to right, each glyph upright towards the centre
    name = "".join(authority_name.split())
    if name:
        n = len(name)
        # longer names: a wider arc, then smaller characters, as seal engravers do
        span = min(240.0, 19.0 * (n - 1) + 40.0) if n > 1 else 0.0
        step = span / (n - 1) if n > 1 else 0.0
        radius_estimate = outer - ring / 2 - s * 0.018 - s * 0.06
        fit = 0.9 * radius_estimate * math.radians(step) / 0.8 if n > 1 else s
        char_size = round(min(s * 0.135, fit))
        font = _font(font_path, char_size)
        stroke = max(1, round(char_size * 0.025))
        text_radius = outer - ring / 2 - s * 0.018 - char_size * 0.5
        for i, char in enumerate(name):
            angle = -90 - span / 2 + i * step  # degrees, 0 = 3 o'clock, clockwise on screen
            rad = math.radians(angle)
            pos = (c + text_radius * math.cos(rad), c + text_radius * math.sin(rad))
            glyph = _glyph(char, font, stroke, 0.8)
            upright = glyph.rotate(-(angle + 90), Image.Resampling.BICUBIC, expand=True)
            _paste_red(canvas, upright, pos)

    # the purpose, straight, below the star
    caption = "".join(caption.split())
    if caption:
        cap_size = round(s * 0.078)
        font = _font(font_path, cap_size)
        stroke = max(1, round(cap_size * 0.03))
        glyphs = [_glyph(ch, font, stroke, 0.9) for ch in caption]
        gap = cap_size * 0.06
        total = sum(g.width for g in glyphs) + gap * (len(glyphs) - 1)
        max_width = outer * 1.05
        x = c - min(total, max_width) / 2
        shrink = min(1.0, max_width / total)
        y = c + s * 0.265
        for g in glyphs:
            if shrink < 1.0:
                g = g.resize((max(1, round(g.width * shrink)), g.height))
            _paste_red(canvas, g, (x + g.width / 2, y))
            x += g.width + gap * shrink

    return canvas.resize((size, size), Image.Resampling.LANCZOS)


@lru_cache(maxsize=64)
def _cached_seal(
    authority_name: str, caption: str, size: int, font_dirs: tuple[str, ...] | None
) -> Image.Image:
    return _draw_seal(authority_name, caption, size, seal_font_path(font_dirs))


def seal_image(
    authority_name: str,
    *,
    caption: str = SEAL_CAPTION,
    size: int = 480,
    font_dirs: tuple[str, ...] | None = None,
) -> Image.Image:
    """The seal as an RGBA image (red on transparent), cached per name and size.

    The returned image is shared: copy it before drawing on it.
    """
    with _lock:
        return _cached_seal(authority_name, caption, size, font_dirs)


# -- the seal's signature --------------------------------------------------------------------


async def seal_contents(document_digest: bytes, *, pki: Pki) -> bytes:
    """The seal field's ``/Contents`` for a document whose signed byte ranges hash to
    ``document_digest`` (with the suite's digest: SHA-256, or SM3 under SM2).

    * ECDSA suite: a CMS SignedData by the seal key (``Pki.seal_signer``: the seal
      certificate, the issuing CA's certificate) with a signature timestamp (PAdES B-T);
    * SM2 suite: a GB/T 38540 ``SES_Signature`` (the authority's ``SES_Seal`` inside,
      ``document_digest`` as its SM3 data hash, the seal key's SM2 signature, a
      timestamp over it), under a SubFilter of its own: :mod:`signing.electronic_seal`.
    """
    if pki.suite.is_sm2:
        from signing import electronic_seal  # it draws its picture with seal_image

        return await electronic_seal.seal_signature(document_digest, pki=pki)
    signer = pki.seal_signer()
    if not isinstance(signer, KeySigner):
        raise TypeError("an HSM-held seal key signs through pyHanko (see seal_signer)")
    return await signer.signature_container(document_digest, pki.timestamper())


class SealSigner(KeySigner):
    """pyHanko's view of the seal: a :class:`KeySigner` whose container is
    :func:`seal_contents`, so the seal's format is decided in one place."""

    def __init__(self, pki: Pki):
        base = pki.seal_signer()
        assert isinstance(base, KeySigner)
        super().__init__(base.key, pki.seal_cert, [pki.issuing_cert], digest=base.digest)
        self._pki = pki

    async def signature_container(
        self, data_digest: bytes, timestamper: TimeStamper | None
    ) -> bytes:
        return await seal_contents(data_digest, pki=self._pki)

    async def async_sign(self, data_digest: bytes, digest_algorithm: str,  # type: ignore[override]
                         dry_run: bool = False, **kwargs: Any) -> Any:
        # a GB/T 38540 seal is not PAdES to pyHanko (its own SubFilter), which would
        # otherwise build a CMS of its own here
        if self._pki.suite.is_sm2 and not dry_run:
            return await seal_contents(data_digest, pki=self._pki)
        return await super().async_sign(data_digest, digest_algorithm, dry_run=dry_run,
                                        **kwargs)


def seal_signer(pki: Pki) -> Signer:
    """The signer :func:`signing.pades.file_document` seals with: :class:`SealSigner`,
    or pyHanko's PKCS#11 signer when the (ECDSA) seal key is in an HSM."""
    base = pki.seal_signer()
    return SealSigner(pki) if isinstance(base, KeySigner) else base
