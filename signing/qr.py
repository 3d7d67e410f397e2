"""The verification QR code printed on every page of a filed contract.

Whoever holds a printed page (a bank clerk, a tax officer) scans it to reach
the contract's public verification page, so it must decode from a phone photo
of a single page: error-correction level M tolerates some smudging and folds
while keeping the code small enough for a footer.

The SVG is built here from the module matrix, with each row's dark runs
merged into one rectangle: a path of one square per module leaves hairline
seams in some rasterisers, and seams make scanning less reliable.
"""

from __future__ import annotations

import io
from functools import lru_cache

import qrcode
from qrcode.constants import ERROR_CORRECT_M


def qr_matrix(content: str, border: int = 4) -> list[list[bool]]:
    """The QR modules (True = dark) for ``content``, with a ``border`` of light modules."""
    if not content:
        raise ValueError("QR content must not be empty")
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=border)
    code.add_data(content)
    code.make(fit=True)
    return code.get_matrix()


# Pure-Python QR encoding costs ~7 ms (mask selection); a contract's preview
# and re-renders reuse the same URL.
@lru_cache(maxsize=256)
def qr_svg(content: str, border: int = 4) -> str:
    """An SVG of the QR code, one unit per module; the embedder chooses the size."""
    matrix = qr_matrix(content, border)
    size = len(matrix)
    parts: list[str] = []
    for y, row in enumerate(matrix):
        x = 0
        while x < size:
            if not row[x]:
                x += 1
                continue
            start = x
            while x < size and row[x]:
                x += 1
            parts.append(f"M{start} {y}h{x - start}v1h{start - x}z")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
        f'width="{size}" height="{size}" shape-rendering="crispEdges">'
        f'<rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path fill="#000" d="{"".join(parts)}"/></svg>'
    )


def qr_png(content: str, box_size: int = 8, border: int = 4) -> bytes:
    """A PNG of the QR code, ``box_size`` pixels per module."""
    from PIL import Image

    matrix = qr_matrix(content, border)
    size = len(matrix)
    image = Image.new("1", (size, size), 1)
    image.putdata([0 if dark else 1 for row in matrix for dark in row])
    image = image.resize((size * box_size, size * box_size), Image.Resampling.NEAREST)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
