"""Signing over the API: face verification rules, signature images, and the filed PDF
checked by two independent validators (poppler's pdfsig and pyHanko)."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from tests import flows, pdfsig
from tests import sale as s


def _sign_with(api, contract_id, who, fv_id, image=None):
    return api.post(f"/api/v1/contracts/{contract_id}/signatures",
                    json={"face_verification_id": fv_id,
                          "signature_image": image if image is not None else s.signature_png()},
                    headers=who.headers)


@pytest.fixture(scope="module")
def filed(live_server):
    import httpx

    with httpx.Client(base_url=live_server.base_url, timeout=60) as api:
        return s.filed_sale(live_server, api, sellers=2, buyers=1)


def _filed_pdf(api, sale) -> tuple[bytes, dict]:
    view = s.expect(api.get(f"/api/v1/contracts/{sale.contract_id}",
                            headers=sale.buyers[0].headers), 200)
    resp = api.get(f"/registry/v1/contracts/{view['filing_no']}/document.pdf",
                   headers=sale.client.headers)
    assert resp.status_code == 200
    return resp.content, {"view": view, "headers": resp.headers}


def test_filed_pdf_passes_pdfsig_with_every_signature_trusted(api, filed, tmp_path):
    if not pdfsig.available():
        pytest.skip("poppler-utils / libnss3-tools are not installed")
    pdf, _ = _filed_pdf(api, filed)
    path = tmp_path / "filed.pdf"
    path.write_bytes(pdf)
    roots = api.get("/pki/roots.pem").content
    results = pdfsig.run_pdfsig(path, pdfsig.make_nss_db(tmp_path / "nss", roots))
    names = set(results)
    assert "platform-certification" in names and "filing-seal" in names
    assert len([n for n in names if n.startswith("party-")]) == 3
    for name, result in results.items():
        if name.startswith("archive-timestamp"):
            continue  # pdfsig cannot check document timestamps; pyHanko does (next test)
        assert result.signature_valid, (name, result)
        assert result.certificate_trusted, (name, result)


def test_filed_pdf_passes_pyhanko_with_certification_intact(api, filed):
    from signing.validation import validate_document

    pdf, _ = _filed_pdf(api, filed)
    roots = api.get("/pki/roots.pem").content
    report = validate_document(pdf, roots)
    assert report.valid, report.to_dict()
    assert report.certified and report.filed


def test_one_flipped_byte_fails_both_validators(api, filed, tmp_path):
    from signing.validation import validate_document

    pdf, _ = _filed_pdf(api, filed)
    # A byte inside the first page's content stream, covered by every signature.
    at = pdf.index(b"stream", 2000) + 200
    tampered = pdf[:at] + bytes([pdf[at] ^ 0x01]) + pdf[at + 1:]
    roots = api.get("/pki/roots.pem").content
    assert not validate_document(tampered, roots).valid
    if pdfsig.available():
        path = tmp_path / "tampered.pdf"
        path.write_bytes(tampered)
        results = pdfsig.run_pdfsig(path, pdfsig.make_nss_db(tmp_path / "nss", roots))
        assert not all(r.signature_valid for r in results.values())


def test_registry_pdf_headers(api, filed):
    import hashlib

    pdf, extra = _filed_pdf(api, filed)
    sha = hashlib.sha256(pdf).hexdigest()
    assert extra["headers"]["x-content-sha256"] == sha
    assert extra["headers"]["etag"] == f'"{sha}"'
    assert extra["headers"]["digest"] == "sha-256=" + base64.b64encode(
        bytes.fromhex(sha)).decode()
    assert extra["view"]["document_sha256"] == sha


def test_signing_rules_for_face_verifications(live_server, api):
    sale = s.sale_in_signing(live_server, api, sellers=1, buyers=1)
    seller, buyer = sale.sellers[0], sale.buyers[0]
    cid = sale.contract_id
    missing = api.post(f"/api/v1/contracts/{cid}/signatures",
                       json={"signature_image": s.signature_png()}, headers=seller.headers)
    assert missing.status_code == 400
    assert "face_verification_id" in missing.json()["error"]["details"]["fields"]
    # Someone else's verification: as if it did not exist.
    buyers_fv = flows.passed_verification(api, buyer.token, "sign", cid)
    theirs = _sign_with(api, cid, seller, buyers_fv)
    assert theirs.status_code == 404
    # A verification for another purpose or contract.
    other = s.sale_in_signing(live_server, api, client=sale.client, seller=seller)
    wrong_contract = flows.passed_verification(api, seller.token, "sign", other.contract_id)
    resp = _sign_with(api, cid, seller, wrong_contract)
    assert resp.status_code in (403, 409)
    assert "contract" in resp.json()["error"]["code"]
    # A failed one.
    started = flows.start_verification(api, seller.token, "sign", contract_id=cid)
    flows.sandbox_scan(api, started, "low_similarity")
    assert flows.complete(api, seller.token, started["id"])["status"] == "failed"
    failed = _sign_with(api, cid, seller, started["id"])
    assert failed.status_code in (403, 409)
    # The right one signs, once; reusing it is refused.
    fv = flows.passed_verification(api, seller.token, "sign", cid)
    assert _sign_with(api, cid, seller, fv).status_code == 201
    reuse = _sign_with(api, cid, buyer, fv)
    assert reuse.status_code == 404  # not the buyer's
    # Signed already: even the face verification for a second signature is refused,
    # before the provider is asked.
    twice = api.post("/api/v1/face-verifications", json={
        "purpose": "sign", "consent": True, "contract_id": cid}, headers=seller.headers)
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "already_signed"
    # The buyer's earlier verification is still unused and still signs.
    assert _sign_with(api, cid, buyer, buyers_fv).status_code == 201
    view = s.expect(api.get(f"/api/v1/contracts/{cid}", headers=buyer.headers), 200)
    assert view["status"] == "filed"


def _png(size=(400, 160), fill=(255, 255, 255, 0)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGBA", size, fill).save(buf, format="PNG")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("image", "why"),
    [
        (base64.b64encode(b"GIF89a" + b"\0" * 100).decode(), "not png"),
        (base64.b64encode(_png()).decode(), "blank"),
        ("!!!not-base64!!!", "bad base64"),
        (base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * (700 * 1024)).decode(), "too large"),
        (base64.b64encode(_png(size=(4000, 100))).decode(), "too wide"),
        ("", "empty"),
    ],
)
def test_bad_signature_images_get_400_and_consume_nothing(live_server, api, image, why):
    sale = s.sale_in_signing(live_server, api)
    seller = sale.sellers[0]
    fv = flows.passed_verification(api, seller.token, "sign", sale.contract_id)
    resp = _sign_with(api, sale.contract_id, seller, fv, image=image)
    assert resp.status_code == 400, (why, resp.text)
    assert "signature_image" in resp.json()["error"]["details"]["fields"]
    # The verification was not spent: a good image now signs with it.
    assert _sign_with(api, sale.contract_id, seller, fv).status_code == 201


def test_every_party_signing_at_the_same_moment_all_sign_and_file(live_server, api):
    """Signatures are made outside the transaction: parties racing on one contract each
    end up in the filed PDF (a signature made on a superseded version is made again)."""
    import asyncio

    import httpx

    from signing.validation import validate_document

    sale = s.sale_in_signing(live_server, api, sellers=1, buyers=2,
                             terms_over={"funds_custody": False})
    fvs = {p.token: flows.passed_verification(api, p.token, "sign", sale.contract_id)
           for p in sale.people}

    async def all_at_once() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=live_server.base_url, timeout=120) as client:
            return await asyncio.gather(*(
                client.post(f"/api/v1/contracts/{sale.contract_id}/signatures",
                            json={"face_verification_id": fvs[p.token],
                                  "signature_image": s.signature_png(n)},
                            headers=p.headers)
                for n, p in enumerate(sale.people)))

    results = asyncio.run(all_at_once())
    assert [r.status_code for r in results] == [201] * 3, [r.text for r in results]
    pdf, info = _filed_pdf(api, sale)
    assert info["view"]["status"] == "filed"
    report = validate_document(pdf, api.get("/pki/roots.pem").content)
    parties = [sig for sig in report.signatures if sig.kind == "party"]
    assert len(parties) == 3 and all(sig.ok for sig in parties), report
    events = s.expect(api.get(f"/api/v1/contracts/{sale.contract_id}/timeline",
                              headers=sale.sellers[0].headers), 200)["events"]
    assert [e["kind"] for e in events].count("signed") == 3
