"""PDF/A-2b stays true after every signature: an explicit checklist (ISO 19005-2).

veraPDF is not installable from the registries this project may use (Debian,
PyPI, npm carry no veraPDF; PyPI wrappers download its Java build from
elsewhere), so the clauses a signing step could break are checked one by one,
on every stored revision: prepared, each party signature, filed.
"""

from __future__ import annotations

import re
from io import BytesIO

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from signing.document import SEAL_FIELD_NAME
from tests.signing.conftest import SignedContract

PDFAID = "http://www.aiim.org/pdfa/ns/id/"


def _revisions(signed: SignedContract) -> list[tuple[str, bytes]]:
    return [("prepared", signed.prepared),
            *((f"party {n + 1}", pdf) for n, pdf in enumerate(signed.revisions)),
            ("filed", signed.filed)]


@pytest.fixture(scope="module")
def revisions(signed: SignedContract) -> list[tuple[str, bytes, PdfFileReader]]:
    return [(name, pdf, PdfFileReader(BytesIO(pdf))) for name, pdf in _revisions(signed)]


def test_header_and_catalog_version_stay_pdf_1_7(revisions) -> None:
    for name, pdf, reader in revisions:
        assert pdf.startswith(b"%PDF-1.7"), name
        version = reader.root.get("/Version")
        assert version is None or str(version).lstrip("/") <= "1.7", (name, version)
        for ext in (reader.root.get("/Extensions") or {}).values():
            entries = ext if isinstance(ext, list) else [ext]
            for entry in entries:
                assert str(entry.get_object()["/BaseVersion"]).lstrip("/") <= "1.7", name


def test_xmp_keeps_pdfaid_under_its_usual_prefixes(revisions) -> None:
    for name, _, reader in revisions:
        xmp = reader.root["/Metadata"].get_object().data.decode("utf-8")
        assert f'xmlns:pdfaid="{PDFAID}"' in xmp, name
        assert re.search(r'pdfaid:part(="|>)2', xmp), name
        assert re.search(r'pdfaid:conformance(="|>)B', xmp), name
        # no made-up prefixes (ns0:, ns3:) for the XMP namespaces pyHanko rewrites
        assert not re.search(r"xmlns:ns\d+=", xmp), (name, re.findall(r"xmlns:\w+=", xmp))


def _modification_dates(reader: PdfFileReader) -> tuple[str | None, str | None]:
    """(the info dictionary's /ModDate, the XMP packet's xmp:ModifyDate)."""
    info = reader.trailer["/Info"].get_object() if "/Info" in reader.trailer else {}
    xmp = reader.root["/Metadata"].get_object().data.decode("utf-8")
    found = re.search(r"xmp:ModifyDate(?:>|=\")([^<\"]+)", xmp)
    return (str(info["/ModDate"]) if "/ModDate" in info else None,
            found.group(1) if found else None)


def test_info_and_xmp_keep_agreeing_on_the_modification_date(revisions) -> None:
    """6.6.3: the info dictionary's entries and the XMP packet are equivalent. The
    signatures' revisions change neither, so what the freeze wrote stays true."""
    expected = _modification_dates(revisions[0][2])
    assert expected[1], "the prepared document's XMP has a modification date"
    for name, _, reader in revisions[1:]:
        assert _modification_dates(reader) == expected, name
    # and no signature's revision writes a metadata stream of its own
    for (name, pdf, _), (_, before, _) in zip(revisions[1:], revisions, strict=False):
        assert b"<x:xmpmeta" not in pdf[len(before):], name


def test_output_intent_and_no_encryption(revisions) -> None:
    for name, _, reader in revisions:
        intents = reader.root.get("/OutputIntents")
        intents = intents.get_object() if intents is not None else None
        assert intents and str(intents[0].get_object()["/S"]) == "/GTS_PDFA1", name
        assert "/Encrypt" not in reader.trailer, name


def test_annotations_print_and_seal_fonts_are_embedded(revisions) -> None:
    _, _, filed = revisions[-1]
    seal = None
    for page_ref in filed.root["/Pages"]["/Kids"]:
        for annot_ref in page_ref.get_object().get("/Annots") or ():
            annot = annot_ref.get_object()
            assert int(annot.get("/F", 0)) & 4, annot.get("/T")  # the Print flag (6.3.2)
            if annot.get("/T") == SEAL_FIELD_NAME or (
                    "/Parent" in annot and annot["/Parent"].get("/T") == SEAL_FIELD_NAME):
                seal = annot
    assert seal is not None
    appearance = seal["/AP"]["/N"].get_object()
    filing_text = appearance["/Resources"]["/XObject"]["/Filing"].get_object()
    fonts = filing_text["/Resources"]["/Font"]
    assert fonts
    for font_ref in fonts.values():
        font = font_ref.get_object()
        descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font \
            else font
        descriptor = descendant["/FontDescriptor"].get_object()
        assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor.keys())
        assert "/ToUnicode" in font  # extractable text (pdftotext finds the filing number)
