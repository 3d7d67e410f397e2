"""The contract PDF, checked with independent tools (poppler, PDFium, zxing).

What matters is what a reader, a bank, the registry or an archive sees: the
facts in the text layer, the embedded fonts, the PDF/A claim, a QR code that
scans to the verification URL, and signature boxes exactly where the
signing step will put its fields.
"""

from __future__ import annotations

import dataclasses
import io
import multiprocessing
import pickle
import re
import subprocess
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from signing.document import (
    SEAL_FIELD_NAME,
    DisputeResolution,
    Installment,
    MortgageTransfer,
    Party,
    signature_field_name,
)
from signing.fonts import FontNotFound, UnrenderableText, ensure_renderable, find_fonts
from signing.numerals import capital_amount
from signing.preview import PageOutOfRange, page_count, render_page_png
from signing.render import RenderedContract, render_contract
from tests.samples import (
    BUYER,
    SAMPLE_CONTRACT_NO,
    SAMPLE_VERIFICATION_URL,
    SELLER_1,
    SELLER_2,
    id_number,
    sample_contract_document,
)

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "templates" / "contract"
A4_WIDTH, A4_HEIGHT = 595.276, 841.89


def _write(tmp_path_factory: pytest.TempPathFactory, name: str, pdf: bytes) -> Path:
    path = tmp_path_factory.mktemp("pdf") / name
    path.write_bytes(pdf)
    return path


def pdftotext(path: Path, *, raw: bool = False, page: int | None = None) -> str:
    args = ["pdftotext", "-enc", "UTF-8"]
    if raw:
        args.append("-raw")
    if page is not None:
        args += ["-f", str(page), "-l", str(page)]
    return subprocess.run(
        [*args, str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def squeeze(text: str) -> str:
    """Text without whitespace: pdftotext breaks lines where the layout wraps."""
    return re.sub(r"\s+", "", text)


def decode_qr(png: bytes) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


@pytest.fixture(scope="module")
def rendered() -> RenderedContract:
    return render_contract(sample_contract_document())


@pytest.fixture(scope="module")
def pdf_path(rendered: RenderedContract, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write(tmp_path_factory, "contract.pdf", rendered.pdf)


@pytest.fixture(scope="module")
def draft() -> RenderedContract:
    return render_contract(sample_contract_document(draft=True))


@pytest.fixture(scope="module")
def draft_path(draft: RenderedContract, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write(tmp_path_factory, "draft.pdf", draft.pdf)


# ─────────────────────────── content ───────────────────────────


def test_text_has_parties_house_and_price(pdf_path: Path) -> None:
    text = squeeze(pdftotext(pdf_path))
    doc = sample_contract_document()
    for party in doc.parties:
        assert party.name in text
        assert party.id_number in text
        assert party.phone in text
    assert squeeze(doc.house.location.full()) in text
    assert doc.house.certificate_no in text
    assert doc.house.unit_no in text
    assert "1,234,567.00" in text
    assert capital_amount(doc.terms.price_fen) == "壹佰贰拾叁万肆仟伍佰陆拾柒元整"
    assert "壹佰贰拾叁万肆仟伍佰陆拾柒元整" in text
    assert SAMPLE_CONTRACT_NO in text
    assert "中国建设银行股份有限公司咸宁分行" in text
    assert "咸宁仲裁委员会" in text
    assert "咸宁市住房和城乡建设局" in text
    # 5 ‱ written out: the font has no ‱ sign.
    assert "万分之五" in text


def test_chapters_follow_the_model_contract(pdf_path: Path) -> None:
    text = squeeze(pdftotext(pdf_path))
    headings = [
        "存量房买卖合同",
        "说明",
        "专业术语解释",
        "第一章合同当事人",
        "第二章房屋基本情况",
        "第三章价款",
        "第四章转移登记和交付",
        "第五章交易方式与备案",
        "第六章其他事项",
        "签署页",
    ]
    positions = [text.find(h) for h in headings]
    assert all(p >= 0 for p in positions), dict(zip(headings, positions, strict=True))
    assert positions == sorted(positions)


def test_chosen_options_are_ticked(pdf_path: Path) -> None:
    text = pdftotext(pdf_path)
    # Only chosen options carry the ✓ glyph; the boxes themselves are drawn.
    assert re.search(r"✓\s*商业贷款", text)
    assert not re.search(r"✓\s*全款", text)
    assert re.search(r"✓\s*按份共有", text)
    assert re.search(r"✓\s*钢筋混凝土结构", text)
    assert re.search(r"✓\s*按国家及地方规定各自承担", text)
    assert re.search(r"✓\s*不采用", text)
    assert re.search(r"✓\s*提交", text)


def test_mortgage_transfer_and_court(tmp_path: Path) -> None:
    base = sample_contract_document()
    terms = dataclasses.replace(
        base.terms,
        mortgage_transfer=MortgageTransfer("中国工商银行股份有限公司咸宁分行", 42_000_000),
        dispute_resolution=DisputeResolution("court", "咸宁市咸安区人民法院"),
        taxes_borne_by="buyer",
        supplementary_terms="",
    )
    path = tmp_path / "m.pdf"
    path.write_bytes(render_contract(dataclasses.replace(base, terms=terms)).pdf)
    text = pdftotext(path)
    flat = squeeze(text)
    assert "中国工商银行股份有限公司咸宁分行同意该房屋带押转让" in flat
    assert "420,000.00" in flat and "肆拾贰万元整" in flat
    assert re.search(r"✓\s*采用", text)
    assert "咸宁市咸安区人民法院" in flat
    assert re.search(r"✓\s*依法向", text)
    assert re.search(r"✓\s*全部由买受人承担", text)


def test_footer_page_numbers_on_every_page(rendered: RenderedContract, pdf_path: Path) -> None:
    total = rendered.page_count
    assert 5 <= total <= 8
    assert page_count(rendered.pdf) == total
    for page in range(1, total + 1):
        text = pdftotext(pdf_path, raw=True, page=page)
        assert f"第 {page} 页 共 {total} 页" in text
        assert SAMPLE_CONTRACT_NO in text


# ─────────────────────────── PDF/A, fonts, metadata ───────────────────────────


def test_fonts_embedded_as_subsets(pdf_path: Path) -> None:
    out = subprocess.run(["pdffonts", str(pdf_path)], capture_output=True, text=True).stdout
    rows = out.splitlines()[2:]
    assert rows, out
    for row in rows:
        # name type... emb sub uni object-id generation: read from the right.
        emb, sub, uni = row.split()[-5:-2]
        assert (emb, sub, uni) == ("yes", "yes", "yes"), row
        assert re.match(r"[A-Z]{6}\+Noto", row), row


def test_declares_pdfa_2b(rendered: RenderedContract) -> None:
    pdf = rendered.pdf
    start, end = pdf.find(b"<x:xmpmeta"), pdf.find(b"</x:xmpmeta>")
    assert 0 <= start < end
    xmp = pdf[start:end].decode("utf-8")
    assert re.search(r"pdfaid:part(>|=\")2", xmp)
    assert re.search(r"pdfaid:conformance(>|=\")B", xmp)


def test_metadata(pdf_path: Path, rendered: RenderedContract) -> None:
    info = subprocess.run(["pdfinfo", str(pdf_path)], capture_output=True, text=True).stdout
    fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    assert fields["Title"].strip() == "存量房买卖合同"
    assert fields["Subject"].strip() == SAMPLE_CONTRACT_NO
    assert SAMPLE_CONTRACT_NO in fields["Keywords"]
    assert fields["Page size"].split()[:3] == ["595.276", "x", "841.89"]
    assert re.search(rb"/Lang\s*\(zh", rendered.pdf)


def test_rendering_is_deterministic(rendered: RenderedContract) -> None:
    assert render_contract(sample_contract_document()).pdf == rendered.pdf


def test_template_text_is_covered_by_the_fonts() -> None:
    # The static wording must not need a fallback font either.
    fonts = find_fonts()
    for path in TEMPLATE_DIR.glob("*.typ"):
        source = re.sub(r"//.*", "", path.read_text("utf-8"))  # comments are not printed
        chars = {c for c in source if ord(c) > 0x7F}
        assert fonts.missing_glyphs("".join(sorted(chars))) == [], path.name


# ─────────────────────────── QR code and draft ───────────────────────────


def test_qr_on_every_page_decodes_to_the_url(rendered: RenderedContract) -> None:
    for page in range(1, rendered.page_count + 1):
        png = render_page_png(rendered.pdf, page, width_px=1000)
        assert decode_qr(png) == [SAMPLE_VERIFICATION_URL], f"page {page}"


def test_qr_decodes_at_preview_size(rendered: RenderedContract) -> None:
    assert decode_qr(render_page_png(rendered.pdf, 1)) == [SAMPLE_VERIFICATION_URL]


def _reddish_pixels(png: bytes) -> int:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return sum(1 for r, g, b in image.getdata() if r - g > 15 and r - b > 15)


def test_draft_has_watermark_and_no_qr(
    draft: RenderedContract, draft_path: Path, rendered: RenderedContract
) -> None:
    assert draft.page_count == rendered.page_count
    for page in range(1, draft.page_count + 1):
        assert "草" in pdftotext(draft_path, page=page)
        png = render_page_png(draft.pdf, page, width_px=400)
        assert decode_qr(png) == []
        # The watermark is a large pale-red 草稿 across the page.
        assert _reddish_pixels(png) > 2000, f"page {page}"
    text = squeeze(pdftotext(draft_path))
    assert "草稿" in text
    assert SAMPLE_VERIFICATION_URL not in text
    # The final contract has neither the watermark colour nor the draft note.
    assert _reddish_pixels(render_page_png(rendered.pdf, 3, width_px=400)) < 50


def test_final_contract_has_no_draft_mark(pdf_path: Path) -> None:
    assert "草稿" not in squeeze(pdftotext(pdf_path))


def test_draft_and_final_are_consistent() -> None:
    with pytest.raises(ValueError):
        render_contract(sample_contract_document(verification_url=""))
    with pytest.raises(ValueError):
        render_contract(sample_contract_document(contract_no=""))
    with pytest.raises(ValueError):
        render_contract(sample_contract_document(draft=True, verification_url="http://x/v/1"))


# ─────────────────────────── glyph coverage ───────────────────────────


def test_rare_characters_render(tmp_path: Path) -> None:
    # Finding: the bundled Noto Serif SC covers U+3402 㐂 and U+4DAE 䶮 (CJK Ext. A).
    assert find_fonts().missing_glyphs("㐂䶮") == []
    buyer = dataclasses.replace(BUYER, name="陈㐂䶮")
    doc = sample_contract_document(parties=(SELLER_1, SELLER_2, buyer))
    path = tmp_path / "rare.pdf"
    path.write_bytes(render_contract(doc).pdf)
    assert "陈㐂䶮" in squeeze(pdftotext(path))


@pytest.mark.parametrize("char", ["\ue000", "\U000f0000", "\x07"])
def test_unrenderable_name_is_refused(char: str) -> None:
    buyer = dataclasses.replace(BUYER, name=f"陈{char}明")
    doc = sample_contract_document(parties=(SELLER_1, SELLER_2, buyer))
    with pytest.raises(UnrenderableText) as caught:
        render_contract(doc)
    assert caught.value.field == "parties[2].name"
    assert caught.value.chars == (char,)


def test_unrenderable_text_anywhere_is_refused() -> None:
    base = sample_contract_document()
    terms = dataclasses.replace(base.terms, supplementary_terms="车位\ue000另议")
    with pytest.raises(UnrenderableText) as caught:
        render_contract(dataclasses.replace(base, terms=terms))
    assert caught.value.field == "terms.supplementary_terms"
    with pytest.raises(UnrenderableText):
        render_contract(sample_contract_document(filing_authority="咸宁市\ue000局"))


def test_text_is_never_interpreted_as_markup(tmp_path: Path) -> None:
    # Party data goes in as JSON strings, so typst syntax in it stays text.
    buyer = dataclasses.replace(BUYER, address="河北大道*216*号 #set text(size: 1pt) $x$ [a]<l>")
    doc = sample_contract_document(parties=(SELLER_1, SELLER_2, buyer))
    path = tmp_path / "markup.pdf"
    path.write_bytes(render_contract(doc).pdf)
    assert squeeze("河北大道*216*号 #set text(size: 1pt) $x$ [a]<l>") in squeeze(pdftotext(path))


def test_ensure_renderable() -> None:
    fonts = find_fonts()
    ensure_renderable("王建国 Wang, 123 号\n", "name", fonts)
    assert fonts.missing_glyphs("王\ue000建\ue000☑") == ["\ue000", "☑"]
    with pytest.raises(UnrenderableText) as caught:
        ensure_renderable("王\ue000", "name", fonts)
    assert "U+E000" in str(caught.value)


def test_missing_font_directory(tmp_path: Path) -> None:
    with pytest.raises(FontNotFound) as caught:
        find_fonts([str(tmp_path)])
    message = str(caught.value)
    assert "\n" not in message and str(tmp_path) in message
    with pytest.raises(FontNotFound):
        render_contract(sample_contract_document(), font_dirs=[str(tmp_path)])


@pytest.mark.skipif(
    not Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc").exists(),
    reason="Debian fonts-noto-cjk not installed",
)
def test_debian_fonts(tmp_path: Path) -> None:
    result = render_contract(
        sample_contract_document(), font_dirs=["/usr/share/fonts/opentype/noto"]
    )
    path = tmp_path / "debian.pdf"
    path.write_bytes(result.pdf)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True).stdout
    assert "NotoSerifCJK" in fonts
    assert "陈晓明" in pdftotext(path)


# ─────────────────────────── validation ───────────────────────────


def test_schedule_must_add_up_to_the_price() -> None:
    base = sample_contract_document()
    schedule = (*base.terms.payment_schedule[:2], Installment(date(2027, 1, 31), 1, "尾款"))
    terms = dataclasses.replace(base.terms, payment_schedule=schedule)
    with pytest.raises(ValueError, match="schedule"):
        render_contract(dataclasses.replace(base, terms=terms))


def test_unknown_codes_are_refused() -> None:
    base = sample_contract_document()
    with pytest.raises(ValueError):
        render_contract(
            dataclasses.replace(base, terms=dataclasses.replace(base.terms, payment_method="x"))
        )
    with pytest.raises(ValueError):
        render_contract(dataclasses.replace(base, parties=(SELLER_1,)))


# ─────────────────────────── signature slots ───────────────────────────


def _assert_slots_sane(result: RenderedContract, doc_parties: tuple[Party, ...]) -> None:
    names = [s.field_name for s in result.slots]
    expected = {signature_field_name(p.party_id) for p in doc_parties} | {SEAL_FIELD_NAME}
    assert set(names) == expected and len(names) == len(expected)
    for slot in result.slots:
        assert 1 <= slot.page <= result.page_count
        assert slot.width > 50 and slot.height > 50
        assert 0 <= slot.x and slot.x + slot.width <= A4_WIDTH
        assert 0 <= slot.y and slot.y + slot.height <= A4_HEIGHT
    for i, a in enumerate(result.slots):
        for b in result.slots[i + 1 :]:
            if a.page != b.page:
                continue
            apart = (
                a.x + a.width <= b.x
                or b.x + b.width <= a.x
                or a.y + a.height <= b.y
                or b.y + b.height <= a.y
            )
            assert apart, (a, b)


def test_slots_inside_pages_and_disjoint(rendered: RenderedContract) -> None:
    _assert_slots_sane(rendered, sample_contract_document().parties)
    # Signatures come after the text: on the last page, above the footer.
    for slot in rendered.slots:
        assert slot.page == rendered.page_count
        assert slot.y > 34 * 72 / 25.4


def _dark_pixels(image: Image.Image, xs: range | list[int], ys: range | list[int]) -> int:
    return sum(image.getpixel((x, y)) < 160 for x in xs for y in ys)


def test_slots_match_the_drawn_boxes(rendered: RenderedContract, pdf_path: Path) -> None:
    # Rasterise at 4 px/pt and look for the dashed border exactly on the slot edges.
    scale = 4
    for slot in rendered.slots:
        png = render_page_png(rendered.pdf, slot.page, width_px=round(A4_WIDTH * scale))
        image = Image.open(io.BytesIO(png)).convert("L")
        left, right = round(slot.x * scale), round((slot.x + slot.width) * scale)
        top = round((A4_HEIGHT - slot.y - slot.height) * scale)
        bottom = round((A4_HEIGHT - slot.y) * scale)
        inner_ys, inner_xs = range(top + 6, bottom - 6), range(left + 6, right - 6)
        for edge in (left, right):
            assert _dark_pixels(image, [edge], inner_ys) > len(inner_ys) * 0.4, slot
            assert _dark_pixels(image, [edge - 4, edge + 4], inner_ys) == 0, slot
        for edge in (top, bottom):
            assert _dark_pixels(image, inner_xs, [edge]) > len(inner_xs) * 0.4, slot
            assert _dark_pixels(image, inner_xs, [edge - 4, edge + 4]) == 0, slot


def test_slots_with_many_parties() -> None:
    sellers = tuple(
        Party(
            party_id=f"s{i}",
            role="seller",
            name=f"共有人{i}",
            id_number=id_number(f"4212021980010100{i}"),
            phone="13800000000",
            address="湖北省咸宁市咸安区",
            share_percent=round(100 / 5, 2),
        )
        for i in range(5)
    )
    buyers = (BUYER, dataclasses.replace(BUYER, party_id="b2", name="陈晓红"))
    agent = Party(
        "a1", "agent", "咸宁安居房地产经纪有限公司", "91421200MA4F000001", "07158000000", "咸宁市"
    )
    parties = (*sellers, *buyers, agent)
    result = render_contract(sample_contract_document(parties=parties))
    _assert_slots_sane(result, parties)
    assert result.page_count <= 9


# ─────────────────────────── preview and process pool ───────────────────────────


def test_preview_page_range_and_size(rendered: RenderedContract) -> None:
    png = render_page_png(rendered.pdf, rendered.page_count, width_px=600)
    assert Image.open(io.BytesIO(png)).size[0] == 600
    for bad in (0, -1, rendered.page_count + 1):
        with pytest.raises(PageOutOfRange):
            render_page_png(rendered.pdf, bad)
    with pytest.raises(ValueError):
        render_page_png(rendered.pdf, 1, width_px=100_000)


def test_preview_of_a_signed_pdf(rendered: RenderedContract) -> None:
    # A visible signature (incremental update + widget appearance) must show.
    signed = _sign_visibly(rendered)
    slot = rendered.slots[0]
    assert page_count(signed) == rendered.page_count

    def ink_in_slot(pdf: bytes) -> int:
        scale = 2
        png = render_page_png(pdf, slot.page, width_px=round(A4_WIDTH * scale))
        image = Image.open(io.BytesIO(png)).convert("L")
        top = (A4_HEIGHT - slot.y - slot.height) * scale
        box = (
            int(slot.x * scale) + 4,
            int(top) + 4,
            int((slot.x + slot.width) * scale) - 4,
            int(top + slot.height * scale) - 4,
        )
        return sum(v < 128 for v in image.crop(box).getdata())

    assert ink_in_slot(signed) > ink_in_slot(rendered.pdf) + 200
    assert decode_qr(render_page_png(signed, 1)) == [SAMPLE_VERIFICATION_URL]


def _sign_visibly(rendered: RenderedContract) -> bytes:
    from datetime import UTC, datetime, timedelta

    from asn1crypto import keys, x509
    from cryptography import x509 as cx509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    from pyhanko import stamp
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    key = ec.generate_private_key(ec.SECP256R1())
    name = cx509.Name([cx509.NameAttribute(NameOID.COMMON_NAME, "test signer")])
    now = datetime.now(UTC)
    cert = (
        cx509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    asn_cert = x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    asn_key = keys.PrivateKeyInfo.load(
        key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    signer = signers.SimpleSigner(
        signing_cert=asn_cert,
        signing_key=asn_key,
        cert_registry=SimpleCertificateStore.from_certs([asn_cert]),
    )
    slot = rendered.slots[0]
    writer = IncrementalPdfFileWriter(io.BytesIO(rendered.pdf))
    fields.append_signature_field(
        writer,
        fields.SigFieldSpec(
            sig_field_name=slot.field_name,
            on_page=slot.page - 1,
            box=(slot.x, slot.y, slot.x + slot.width, slot.y + slot.height),
        ),
    )
    pdf_signer = signers.PdfSigner(
        signers.PdfSignatureMetadata(field_name=slot.field_name),
        signer=signer,
        stamp_style=stamp.TextStampStyle(stamp_text="SIGNED %(ts)s", border_width=3),
    )
    out = pdf_signer.sign_pdf(writer)
    return out.getvalue()


def test_render_in_a_process_pool(rendered: RenderedContract) -> None:
    doc = sample_contract_document()
    assert pickle.loads(pickle.dumps(doc)) == doc
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
        result = pool.submit(render_contract, doc, None).result(timeout=120)
    assert result.pdf == rendered.pdf
    assert result.slots == rendered.slots


def test_forked_child_fails_instead_of_hanging(rendered: RenderedContract) -> None:
    # This process has used typst (the fixture), so a forked child must refuse.
    fork = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=1, mp_context=fork) as pool:
        future = pool.submit(render_contract, sample_contract_document(), None)
        with pytest.raises(RuntimeError, match="forked"):
            future.result(timeout=60)
