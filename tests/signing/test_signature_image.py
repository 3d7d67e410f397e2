"""Handwritten-signature uploads: refused with a reason, or normalised."""

from __future__ import annotations

import base64
import io
import os

import pytest
from PIL import Image, ImageDraw

from signing.seal import SEAL_RED, seal_image
from signing.signature_image import (
    DEFAULT_LIMITS,
    InvalidSignatureImage,
    decode_base64_image,
    normalise_signature_image,
    normalise_signature_png,
)
from tests.signing.conftest import handwriting


def encode(image: Image.Image, fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def reason(data: bytes) -> str:
    with pytest.raises(InvalidSignatureImage) as caught:
        normalise_signature_image(data)
    return caught.value.reason_code


def test_not_a_png() -> None:
    assert reason(encode(Image.new("RGB", (300, 100), "white"), "JPEG")) == "not_png"
    assert reason(encode(Image.new("RGB", (300, 100), "white"), "GIF")) == "not_png"
    assert reason(b"") == "not_png"
    assert reason(b"<svg xmlns='http://www.w3.org/2000/svg'/>") == "not_png"


def test_damaged_png() -> None:
    png = handwriting()
    assert reason(png[:200]) == "corrupt"
    assert reason(png[:8] + b"\x00" * 40) == "corrupt"


def test_too_many_bytes() -> None:
    # noise does not compress: a 600×600 RGBA of it is ~1.4 MB
    noise = Image.frombytes("RGBA", (600, 600), os.urandom(600 * 600 * 4))
    data = encode(noise)
    assert len(data) > DEFAULT_LIMITS.max_bytes
    assert reason(data) == "too_large"


@pytest.mark.parametrize("size", [(2500, 300), (400, 2100), (40, 100), (300, 10)])
def test_dimensions_out_of_range(size: tuple[int, int]) -> None:
    assert reason(encode(Image.new("RGBA", size, (0, 0, 0, 0)))) == "bad_dimensions"


def test_decompression_bomb_is_refused_before_decoding() -> None:
    # 20000×20000 of one colour: a few KB on the wire, 1.6 GB decoded
    header_only = encode(Image.new("1", (20000, 20000), 0))
    assert len(header_only) < DEFAULT_LIMITS.max_bytes
    assert reason(header_only) == "bad_dimensions"


@pytest.mark.parametrize(
    "canvas",
    [
        Image.new("RGBA", (600, 240), (0, 0, 0, 0)),  # untouched transparent canvas
        Image.new("RGBA", (600, 240), (255, 255, 255, 0)),  # transparent white
        Image.new("RGB", (600, 240), "white"),  # untouched white canvas
        Image.new("RGB", (600, 240), (30, 30, 30)),  # one colour, all over
        Image.new("L", (600, 240), 128),
    ],
)
def test_blank_canvas(canvas: Image.Image) -> None:
    assert reason(encode(canvas)) == "blank"


def test_a_dot_is_not_a_signature() -> None:
    canvas = Image.new("RGBA", (600, 240), (0, 0, 0, 0))
    ImageDraw.Draw(canvas).point([(300, 120), (301, 120)], fill=(0, 0, 0, 255))
    assert reason(encode(canvas)) == "blank"


def test_base64_errors() -> None:
    for bad in ("###", "data:image/png,abcd", "签名"):
        with pytest.raises(InvalidSignatureImage) as caught:
            decode_base64_image(bad)
        assert caught.value.reason_code == "bad_base64"
    oversized = "A" * (DEFAULT_LIMITS.max_bytes * 2)
    with pytest.raises(InvalidSignatureImage) as caught:
        decode_base64_image(oversized)
    assert caught.value.reason_code == "too_large"
    png = handwriting()
    url = "data:image/png;base64," + base64.b64encode(png).decode()
    assert decode_base64_image(url) == png
    assert decode_base64_image(base64.b64encode(png)) == png


@pytest.mark.parametrize(
    "png",
    [
        handwriting(1),
        handwriting(2, background=(255, 255, 255)),
        handwriting(3, background=(250, 245, 230)),
    ],
    ids=["transparent", "white", "paper"],
)
def test_normalised_to_dark_ink_on_transparency(png: bytes) -> None:
    image = normalise_signature_image(png)
    assert image.mode == "RGBA"
    assert image.size == (DEFAULT_LIMITS.box_width, DEFAULT_LIMITS.box_height)
    alpha = image.getchannel("A")
    assert alpha.getpixel((0, 0)) == 0  # the background is gone
    bbox = alpha.getbbox()
    assert bbox is not None
    # cropped to the ink and scaled up to touch the box on one axis
    width, height = bbox[2] - bbox[0], bbox[3] - bbox[1]
    assert width >= DEFAULT_LIMITS.box_width - 2 or height >= DEFAULT_LIMITS.box_height - 2
    inked = [px for px in image.getdata() if px[3] > 128]
    assert inked and all(max(px[:3]) < 60 for px in inked)


def test_normalised_png_round_trips() -> None:
    data = normalise_signature_png(handwriting())
    assert data.startswith(b"\x89PNG")
    again = normalise_signature_image(data)
    assert again.size == (DEFAULT_LIMITS.box_width, DEFAULT_LIMITS.box_height)


def test_seal_is_a_round_red_stamp() -> None:
    seal = seal_image("咸宁市住房和城乡建设局", size=300)
    assert seal.mode == "RGBA" and seal.size == (300, 300)
    assert seal is seal_image("咸宁市住房和城乡建设局", size=300)  # cached
    assert seal.getpixel((0, 0))[3] == 0 and seal.getpixel((299, 299))[3] == 0  # round
    opaque = [px for px in seal.getdata() if px[3] > 200]
    assert len(opaque) > 0.1 * 300 * 300
    assert all(abs(px[0] - SEAL_RED[0]) < 30 and px[1] < 50 and px[2] < 60 for px in opaque)
    # the ring: opaque at the top edge of the circle, the star: opaque in the centre
    assert seal.getpixel((150, 16))[3] > 200
    assert seal.getpixel((150, 150))[3] > 200
