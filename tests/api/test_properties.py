"""Property-based (hypothesis): whatever a client sends as an id, a cursor, If-Match,
Idempotency-Key, a number or a string, the answer is a 4xx in the API.md format or a
success, never a 500 (issue 12). Seeded (derandomize) and bounded."""

from __future__ import annotations

import json
import socket
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import sale as s
from tests.live import LiveServer

BOUNDED = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                   suppress_health_check=[HealthCheck.function_scoped_fixture,
                                          HealthCheck.too_slow])

# Text with what breaks naive handlers: NUL, other controls, non-ASCII digits, long runs.
nasty_text = st.one_of(
    st.text(min_size=0, max_size=80),
    st.text(alphabet=st.sampled_from("\x00\x01\x1f\x7f\x85\u2028²³\u0661٣xX0-_"), max_size=40),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(["", " ", "9" * 40, str(2**63), str(2**63 - 1), "-1", "1e9", "0x10",
                     "NaN", "Infinity", "１２", "1_000", "../../etc/passwd", "%00", "a" * 300]),
)
numbers = st.one_of(
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "-0", "0", 1e308, -1e308,
                     2**63, -(2**63) - 1]),
)


@pytest.fixture(scope="module")
def client(live_server: LiveServer) -> httpx.Client:
    c = httpx.Client(base_url=live_server.base_url, timeout=30)
    yield c
    c.close()


def _ok_or_4xx(resp: httpx.Response) -> None:
    assert resp.status_code < 500, f"{resp.request.method} {resp.request.url} -> " \
                                   f"{resp.status_code}: {resp.text[:300]}"
    if resp.status_code >= 400 and resp.headers.get("content-type", "").startswith(
            "application/json"):
        body = resp.json()
        if resp.request.url.path == "/registry/v1/token":  # RFC 6749 §5.2, not the envelope
            assert set(body) == {"error", "error_description"}
            return
        assert set(body) == {"error", "request_id"}
        assert {"code", "message", "details"} == set(body["error"])


def _segment(text: str) -> str:
    # Lone surrogates cannot be sent as UTF-8: keep them as their percent-encoded bytes.
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


@BOUNDED
@given(ident=nasty_text)
def test_ids_in_paths(client: httpx.Client, user: s.Person, registry: s.RegistryClient,
                      ident: str):
    seg = _segment(ident) or "x"
    for method, path, who in (
            ("GET", f"/api/v1/contracts/{seg}", user.headers),
            ("GET", f"/api/v1/face-verifications/{seg}", user.headers),
            ("POST", f"/api/v1/face-verifications/{seg}/complete", user.headers),
            ("POST", f"/api/v1/invitations/{seg}/accept", user.headers),
            ("GET", f"/api/v1/contracts/{seg}/pages/{seg}", user.headers),
            ("GET", f"/registry/v1/contracts/{seg}", registry.headers),
            ("POST", f"/registry/v1/contracts/{seg}/completion", registry.headers),
            ("GET", f"/registry/v1/units/{seg}", registry.headers),
            ("DELETE", f"/registry/v1/units/{s.new_unit_no()}/restrictions/{seg}",
             registry.headers),
            ("GET", f"/api/v1/verify/{seg}", {})):
        _ok_or_4xx(client.request(method, path, headers=who))


@BOUNDED
@given(cursor=nasty_text, limit=nasty_text)
def test_feed_cursors(client: httpx.Client, registry: s.RegistryClient, cursor: str,
                      limit: str):
    resp = client.get("/registry/v1/contracts", headers=registry.headers,
                      params={"cursor": cursor.encode("utf-8", "surrogatepass"),
                              "limit": limit.encode("utf-8", "surrogatepass")})
    _ok_or_4xx(resp)
    if resp.status_code == 200:
        assert cursor.isascii() and (cursor == "" or cursor.isdigit())


def _raw(server: LiveServer, method: str, path: str, headers: dict[str, str],
         extra: tuple[bytes, bytes], body: bytes) -> tuple[int, bytes]:
    """One request over a plain socket: httpx (h11) refuses to send a NUL in a header,
    a hostile client does not."""
    lines = [f"{method} {path} HTTP/1.1".encode(), f"Host: 127.0.0.1:{server.port}".encode(),
             b"Connection: close", b"Content-Type: application/json",
             f"Content-Length: {len(body)}".encode(),
             *(f"{k}: {v}".encode() for k, v in headers.items()), extra[0] + b": " + extra[1]]
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(b"\r\n".join(lines) + b"\r\n\r\n" + body)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, payload = b"".join(chunks).partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    assert status < 500, (path, extra, head, payload[:300])
    if status >= 400 and b"application/json" in head:
        body_json = json.loads(payload)
        assert set(body_json) == {"error", "request_id"}
    return status, payload


def _header_value(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass").replace(b"\r", b"").replace(b"\n", b"")


@BOUNDED
@given(value=nasty_text)
def test_if_match(live_server: LiveServer, filed: s.Sale, value: str):
    status, _ = _raw(live_server, "PATCH", f"/api/v1/contracts/{filed.contract_id}",
                     filed.sellers[0].headers, (b"If-Match", _header_value(value)),
                     json.dumps({"terms": s.terms()}).encode())
    assert status in (400, 409, 412, 428), status


@BOUNDED
@given(key=nasty_text)
def test_idempotency_keys(live_server: LiveServer, user: s.Person, key: str):
    _raw(live_server, "POST", "/api/v1/properties/check", user.headers,
         (b"Idempotency-Key", _header_value(key)),
         json.dumps({"certificate_no": "鄂(2024)不存在"}).encode())


@BOUNDED
@given(number=numbers, where=st.sampled_from(["version", "price_fen", "share", "structure",
                                              "source_version", "amount_fen"]))
def test_numbers(client: httpx.Client, filed: s.Sale, registry: s.RegistryClient,
                 number: Any, where: str):
    who = filed.sellers[0]
    if where == "version":
        resp = client.post(f"/api/v1/contracts/{filed.contract_id}/confirm",
                           json={"version": number}, headers=who.headers)
    elif where in ("price_fen", "share"):
        buyer = s.Person("李秀英", s.flows.make_id_number(), "")
        party = {**buyer.party(), "share": number}
        body = {"kind": "resale", "certificate_no": filed.certificate_no,
                "initiator_role": "seller", "sellers": [who.party()], "buyers": [party],
                "terms": {**s.terms(), "price_fen": number} if where == "price_fen" else s.terms()}
        resp = client.post("/api/v1/contracts", content=json.dumps(body), headers={
            **who.headers, "Content-Type": "application/json"})
    elif where == "amount_fen":
        resp = client.put(f"/registry/v1/units/{s.new_unit_no()}/restrictions/r1",
                          json={"kind": "mortgage", "lender": "中国银行", "amount_fen": number},
                          headers=registry.headers)
    else:
        payload = {**s.unit_payload([who]), where: number}
        resp = client.put(f"/registry/v1/units/{s.new_unit_no()}", json=payload,
                          headers=registry.headers)
    _ok_or_4xx(resp)


def test_non_finite_numbers_in_json(client: httpx.Client, filed: s.Sale):
    for literal in (b"NaN", b"Infinity", b"-Infinity", b"1e400", b"1" * 400):
        resp = client.post(f"/api/v1/contracts/{filed.contract_id}/confirm",
                           content=b'{"version": ' + literal + b"}",
                           headers={**filed.sellers[0].headers,
                                    "Content-Type": "application/json"})
        _ok_or_4xx(resp)
        assert resp.status_code == 400


strings = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x9f), max_size=50),
    st.sampled_from(["\x00", "a\x00b", "\ud800", "x\udfff", "\u202e", "\ufeff", "\x1b[31m"]),
    st.just("长" * 10**6),
)


@settings(BOUNDED, max_examples=30)
@given(text=strings, field=st.sampled_from(["certificate_no", "contract_id", "client_id",
                                            "name", "case_no", "code"]))
def test_strings(client: httpx.Client, user: s.Person, registry: s.RegistryClient,
                 filed: s.Sale, text: str, field: str):
    # Lone surrogates go out as JSON escapes (json.dumps), as a buggy client would send them.
    def post(path: str, body: dict[str, Any], headers: dict[str, str]) -> httpx.Response:
        return client.post(path, content=json.dumps(body).encode(), headers={
            **headers, "Content-Type": "application/json"})

    if field == "certificate_no":
        resp = post("/api/v1/properties/check", {"certificate_no": text}, user.headers)
    elif field == "contract_id":
        resp = post("/api/v1/face-verifications", {"purpose": "sign", "consent": True,
                                                   "contract_id": text}, user.headers)
    elif field == "client_id":
        resp = post("/registry/v1/token", {"client_id": text, "client_secret": text}, {})
    elif field == "name":
        resp = post("/api/v1/face-verifications", {"purpose": "bind_identity", "consent": True,
                                                   "name": text, "id_number": text},
                    user.headers)
    elif field == "case_no":
        resp = post(f"/registry/v1/contracts/{s.new_unit_no()[:16]}/acceptance",
                    {"case_no": text}, registry.headers)
    else:
        resp = post("/api/v1/auth/login", {"provider": "sandbox", "code": text}, {})
    _ok_or_4xx(resp)
    if "\x00" in text or any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        assert 400 <= resp.status_code < 500
