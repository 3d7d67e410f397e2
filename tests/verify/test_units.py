"""The verification pieces that need no server: masking, facts, cache, hashing, HTML."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from server.config import Settings
from server.kv.memory import MemoryStore
from server.services.verification import documents, facts, page, pdfcheck, reports
from server.services.verification.gate import Gate
from server.services.verification_cache import facts_key, forget_facts

T = datetime(2026, 1, 15, 6, 3, 9, tzinfo=UTC)


def unit(**over):
    base = dict(city="咸宁市", district="咸安区", community="温泉花园", building="3栋",
                unit="2单元", room="1202室")
    return SimpleNamespace(**{**base, **over})


def contract(**over):
    base = dict(verify_code="ABCDEFGHJK", status="filed", filing_state="done",
                filing_no="4212022026000001", filed_at=T, contract_no="WQ4212022026011500001",
                accepted_at=None, registered_at=None, revoked_at=None)
    return SimpleNamespace(**{**base, **over})


def parties():
    return [SimpleNamespace(role="seller", name="欧阳明锋", signed_at=T),
            SimpleNamespace(role="buyer", name="李娜", signed_at=None)]


def test_location_hides_the_room_only():
    assert facts.location_masked(unit()) == "咸宁市咸安区温泉花园3栋 2单元 ****室"
    assert facts.mask_room("12A") == "****"
    assert facts.location_masked(unit(room="1")) == facts.location_masked(unit(room="2601室")
                                                                          ).replace("室", "")


def test_facts_of_a_filed_contract():
    filed_doc = SimpleNamespace(sha256="ab" * 32, size=1234, created_at=T)
    f = facts.build(contract(), parties(), unit(), filed_doc, "咸宁市住房和城乡建设局")
    assert (f["status"], f["status_label"], f["sealing"], f["note"]) == \
        ("filed", "已备案", False, None)
    assert f["filed_at"] == "2026-01-15T14:03:09+08:00"
    assert [(p["role_label"], p["name_masked"], p["signed"]) for p in f["parties"]] == \
        [("出卖人", "欧**锋", True), ("买受人", "李*", False)]
    assert [s["kind"] for s in f["signatures"]] == ["party", "seal"]  # the unsigned one is absent
    assert f["document"]["sha256"] == "ab" * 32
    assert "1202室" not in str(f)


def test_a_contract_being_sealed_reads_as_filed_with_a_note():
    f = facts.build(contract(filing_state="sealing"), parties(), unit(), None, "备案机构")
    assert f["status_label"] == "已备案" and f["sealing"] is True
    assert f["note"] == facts.SEALING_NOTE
    assert f["document"]["sha256"] is None
    assert all(s["kind"] != "seal" for s in f["signatures"])
    html = page.render_page(f, T)
    assert facts.SEALING_NOTE in html and 'id="sha256"' not in html


def test_html_escapes_every_value():
    f = facts.build(contract(), parties(), unit(community='<img src=x onerror="alert(1)">'),
                    None, "<b>局</b>")
    html = page.render_page(f, T)
    assert "<img" not in html and "<b>局" not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html


class _CountingLoad:
    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, gate, authority):
        self.calls += 1
        return {"status": gate.status, "n": self.calls}


@pytest.fixture()
def counted(monkeypatch) -> _CountingLoad:
    load = _CountingLoad()
    monkeypatch.setattr(facts, "_load", load)
    return load


async def test_cache_serves_until_forgotten_or_stale(counted, tmp_path):
    kv = MemoryStore()
    settings = Settings.from_env({"DATA_DIR": str(tmp_path)})
    g = Gate(contract_id="c1", code="ABCDEFGHJK", status="filed", stamp="filed|done|1")
    assert (await facts.load(kv, settings, g))["n"] == 1
    assert (await facts.load(kv, settings, g))["n"] == 1  # from the cache
    assert await kv.get(facts_key("ABCDEFGHJK")) is not None
    await forget_facts(kv, "ABCDEFGHJK")  # what the contract code does on a status change
    assert (await facts.load(kv, settings, g))["n"] == 2
    # A change the cache was not told about (another worker's store): the stamp differs.
    moved = Gate(contract_id="c1", code="ABCDEFGHJK", status="registration_accepted",
                 stamp="registration_accepted|done|2")
    assert await facts.load(kv, settings, moved) == {"status": "registration_accepted", "n": 3}
    off = Settings.from_env({"DATA_DIR": str(tmp_path), "VERIFY_CACHE_TTL_S": "0"})
    await facts.load(kv, off, moved)
    await facts.load(kv, off, moved)
    assert counted.calls == 5


def test_prefix_digests_match_direct_hashes():
    data = bytes(range(256)) * 100
    lengths = [0, 1, 5000, 5000, len(data), len(data) + 1]
    got = pdfcheck.prefix_digests(data, lengths)
    assert set(got) == {1, 5000, len(data)}
    for n, digest in got.items():
        assert digest == hashlib.sha256(data[:n]).hexdigest()


def test_scrub_masks_id_and_phone_shapes_only():
    assert pdfcheck.scrub("张三 42120219850312123X 13912345678") == \
        "张三 4212**********123X 139****5678"
    # Glued to letters (contract numbers, hashes): left alone.
    assert pdfcheck.scrub("WQ4212022026011500001") == "WQ4212022026011500001"


def test_public_signature_masks_the_signer():
    sig = reports.public_signature({
        "field_name": "party-p1", "kind": "party",
        "signer": {"common_name": "欧阳明锋", "masked_id": "421202198503121234"},
        "intact": True, "valid": True, "trusted": True, "ok": True})
    assert sig["signer"] == "欧**锋"
    assert sig["signer_id_masked"] == "4212**********1234"
    seal = reports.public_signature({"kind": "seal",
                                        "signer": {"common_name": "网签备案专用章"}})
    assert seal["signer"] == "网签备案专用章"


def test_pdf_sniffing():
    assert documents.looks_like_pdf(b"%PDF-1.7\n...\n%%EOF\n")
    assert documents.looks_like_pdf(b"\xef\xbb\xbf junk %PDF-1.4 x %%EOF")
    assert not documents.looks_like_pdf(b"%PDF-1.7 but never ends")
    assert not documents.looks_like_pdf(b"x" * 2000 + b"%PDF-1.7 %%EOF")


def test_csp_names_exactly_the_inline_assets():
    html = page.NOT_FOUND_HTML
    assert "<script" not in html
    assert re.search(r"style-src 'sha256-[A-Za-z0-9+/=]{44}'", page.CONTENT_SECURITY_POLICY)
    assert "unsafe" not in page.CONTENT_SECURITY_POLICY
