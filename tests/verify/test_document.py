"""``POST /api/v1/verify/{code}/document``: original, earlier revision, tampered, extended, junk."""

from __future__ import annotations

import re

from tests.pdf_edits import add_revision
from tests.verify.conftest import FiledContract

PDF = {"Content-Type": "application/pdf"}


def check(api, fc: FiledContract, body: bytes, headers: dict | None = None):
    return api.post(fc.document_path, content=body, headers=headers or PDF)


def flip_signed_byte(pdf: bytes) -> bytes:
    """One bit flipped in the middle of the biggest stream of the first revision: bytes every
    signature covers, and where a flip leaves the file's structure readable."""
    first_eof = pdf.index(b"%%EOF")
    streams = [(m.end(), pdf.index(b"endstream", m.end()))
               for m in re.finditer(rb"(?<!end)stream\r?\n", pdf[:first_eof])]
    start, end = max(streams, key=lambda r: r[1] - r[0])
    assert end - start > 1000
    out = bytearray(pdf)
    out[(start + end) // 2] ^= 0x01
    return bytes(out)


def test_original_is_identical(vapi, filed: FiledContract):
    r = check(vapi, filed, filed.filed_pdf)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["identical"] is True
    assert report["matches_stage"] == "filed"
    assert report["added_after_filing"] is False and report["bytes_after_match"] == 0
    assert report["signatures_valid"] is True
    assert report["filed_sha256"] == report["uploaded_sha256"]
    kinds = [sig["kind"] for sig in report["signatures"]]
    assert kinds.count("party") == 3 and "seal" in kinds and "document_timestamp" in kinds
    assert all(sig["ok"] and sig["intact"] and sig["trusted"] for sig in report["signatures"])
    parties = [sig for sig in report["signatures"] if sig["kind"] == "party"]
    names = {p.name[0] + "*" + p.name[-1] for p in filed.sale.people}
    assert {sig["signer"] for sig in parties} == names
    assert all(re.fullmatch(r"\d{4}\*{10}[\dX]{4}", sig["signer_id_masked"]) for sig in parties)
    assert report["conclusion"]["level"] == "ok"
    # Same bytes again (served from the report cache): the same answer.
    again = check(vapi, filed, filed.filed_pdf).json()
    assert {k: again[k] for k in ("identical", "matches_stage", "signatures_valid")} == \
           {k: report[k] for k in ("identical", "matches_stage", "signatures_valid")}


def test_prepared_revision_is_recognised(vapi, filed: FiledContract):
    report = check(vapi, filed, filed.prepared_pdf).json()
    assert report["identical"] is False
    assert report["matches_stage"] == "prepared"
    assert report["matched_revision"]["size"] == len(filed.prepared_pdf)
    assert report["bytes_after_match"] == 0 and report["added_after_filing"] is False
    # Its one signature (the platform's certification) is fine: it is simply not the filed one.
    assert report["signatures_valid"] is True
    assert [sig["kind"] for sig in report["signatures"]] == ["certification"]
    assert report["conclusion"]["level"] == "warn" and "待签版本" in report["conclusion"]["text"]


def test_intermediate_revision_names_its_signer(vapi, filed: FiledContract):
    # The filed file's fourth revision ends with the first party's signature.
    ends = [m.end() for m in re.finditer(rb"%%EOF\r?\n?", filed.filed_pdf)]
    first_signed = next(e for e in ends if e > len(filed.prepared_pdf))
    report = check(vapi, filed, filed.filed_pdf[:first_signed]).json()
    assert report["matches_stage"].startswith("signed:")
    signer = report["matched_revision"]["signed_by"]
    assert signer["name_masked"] in {p.name[0] + "*" + p.name[-1] for p in filed.sale.people}
    assert report["identical"] is False and report["added_after_filing"] is False


def test_tampered_byte_breaks_identity_and_signatures(vapi, filed: FiledContract):
    tampered = flip_signed_byte(filed.filed_pdf)
    r = check(vapi, filed, tampered)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["identical"] is False
    assert report["matches_stage"] is None  # not even the first revision is ours any more
    assert report["signatures_valid"] is False
    assert report["signatures"] and not any(sig["intact"] for sig in report["signatures"]
                                            if sig["kind"] != "document_timestamp")
    assert report["uploaded_sha256"] != report["filed_sha256"]
    assert report["conclusion"]["level"] == "bad"


def test_revision_added_after_filing(vapi, filed: FiledContract):
    extended = add_revision(filed.filed_pdf)
    assert extended.startswith(filed.filed_pdf) and len(extended) > len(filed.filed_pdf)
    report = check(vapi, filed, extended).json()
    assert report["identical"] is False
    assert report["matches_stage"] == "filed"
    assert report["added_after_filing"] is True
    assert report["bytes_after_match"] == len(extended) - len(filed.filed_pdf)
    assert "追加" in report["conclusion"]["text"]


def test_junk_after_filed_document_is_still_reported(vapi, filed: FiledContract):
    report = check(vapi, filed, filed.filed_pdf + b"\x00" * 5000 + b"%%EOF").json()
    assert report["matches_stage"] == "filed" and report["added_after_filing"] is True
    assert report["identical"] is False


def test_garbage_empty_and_wrong_type(vapi, filed: FiledContract):
    for body in (b"this is not a pdf at all", bytes(range(256)) * 64,
                 b"%PDF-1.7\n" + b"\x8f" * 4000 + b"\n%%EOF\n",  # a header and nothing else
                 filed.filed_pdf[: len(filed.prepared_pdf) // 2]):  # cut in half
        r = check(vapi, filed, body)
        assert r.status_code == 400, r.text
        assert r.json()["error"]["code"] == "invalid_pdf"
        assert r.json()["error"]["message"]
    r = check(vapi, filed, b"")
    assert r.status_code == 400 and r.json()["error"]["code"] == "empty_body"
    r = check(vapi, filed, filed.filed_pdf, {"Content-Type": "application/json"})
    assert r.status_code == 415 and r.json()["error"]["code"] == "unsupported_media_type"


def test_too_large(vapi, filed: FiledContract):
    r = check(vapi, filed, b"%PDF-1.7\n" + b"0" * (20 * 1024 * 1024 + 10))
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "payload_too_large"


def test_earlier_revision_with_foreign_additions(vapi, filed: FiledContract):
    forged = add_revision(filed.prepared_pdf)
    report = check(vapi, filed, forged).json()
    assert report["matches_stage"] == "prepared"
    assert report["bytes_after_match"] == len(forged) - len(filed.prepared_pdf) > 0
    assert report["added_after_filing"] is False and report["identical"] is False
    assert report["conclusion"]["level"] == "bad"


def _chunks(data: bytes, size: int = 256 * 1024):
    for i in range(0, len(data), size):
        yield data[i:i + size]


def test_too_large_when_chunked(vapi, filed: FiledContract):
    # No Content-Length: the limit holds on the bytes actually read.
    body = b"%PDF-1.7\n" + b"0" * (20 * 1024 * 1024 + 10)
    r = vapi.post(filed.document_path, content=_chunks(body),
                  headers={"Content-Type": "application/pdf"})
    assert r.request.headers.get("transfer-encoding") == "chunked"
    assert r.status_code == 413
    assert r.json()["error"]["details"] == {"limit_bytes": 20 * 1024 * 1024}


def test_the_upload_has_its_own_limit_above_the_json_one(vapi, filed: FiledContract):
    # 3 MiB, above MAX_BODY_BYTES (1 MiB), below MAX_PDF_UPLOAD_BYTES: read, streamed, checked.
    padded = filed.filed_pdf + b"\n%" + b"0" * (3 * 1024 * 1024) + b"\n"
    r = vapi.post(filed.document_path, content=_chunks(padded),
                  headers={"Content-Type": "application/pdf"})
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["uploaded_size"] == len(padded) and report["matches_stage"] == "filed"


def test_a_large_upload_to_a_wrong_code_is_refused_unread(vapi, filed: FiledContract):
    r = vapi.post(f"/api/v1/verify/{filed.code}/document?t=wrong",
                  content=b"%PDF-1.7\n" + b"0" * (5 * 1024 * 1024),
                  headers={"Content-Type": "application/pdf"})
    assert r.status_code == 404
