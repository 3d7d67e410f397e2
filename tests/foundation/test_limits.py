"""Body limits count the bytes actually read, whatever the content type or framing, and only
a body that says it is JSON is parsed as JSON."""

from __future__ import annotations

import orjson

from tests.foundation.test_http_errors import assert_error

LIMIT = 1024 * 1024  # MAX_BODY_BYTES, the default


def _chunks(data: bytes, size: int = 64 * 1024):
    for i in range(0, len(data), size):
        yield data[i:i + size]


def _login_body(padding: int) -> bytes:
    return orjson.dumps({"provider": "sandbox", "code": "limits-" + "x" * padding})


def test_any_content_type_over_the_limit_is_413(api):
    big = b"%PDF-1.7\n" + b"0" * (5 * LIMIT)
    for ctype in ("application/pdf", "application/octet-stream", "text/plain",
                  "application/json", "multipart/form-data; boundary=x"):
        body = assert_error(api.post("/api/v1/auth/login", content=big,
                                     headers={"Content-Type": ctype}), 413, "payload_too_large")
        assert body["error"]["details"] == {"limit_bytes": LIMIT}
    assert_error(api.post("/api/v1/auth/login", content=big), 413, "payload_too_large")


def test_a_chunked_body_is_counted_as_it_is_read(api):
    big = _login_body(2 * LIMIT)
    r = api.post("/api/v1/auth/login", content=_chunks(big),
                 headers={"Content-Type": "application/json"})
    assert r.request.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in r.request.headers
    assert_error(r, 413, "payload_too_large")
    # Under the limit, chunked is as good as Content-Length.
    ok = api.post("/api/v1/auth/login", content=_chunks(_login_body(10), 7),
                  headers={"Content-Type": "application/json"})
    assert ok.status_code == 200, ok.text


def test_a_raw_chunked_stream_is_cut_off_at_the_limit(api, live_server):
    import socket

    body = _login_body(2 * LIMIT)
    with socket.create_connection(("127.0.0.1", live_server.port), timeout=10) as sock:
        sock.sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
        for part in _chunks(body):
            try:
                sock.sendall(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            except (BrokenPipeError, ConnectionResetError):
                break
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


def test_only_json_is_parsed_as_json(api):
    body = _login_body(10)
    for ctype in (None, "application/pdf", "text/plain", "application/x-www-form-urlencoded"):
        headers = {"Content-Type": ctype} if ctype else {}
        r = api.post("/api/v1/auth/login", content=body, headers=headers)
        err = assert_error(r, 415, "unsupported_media_type")
        assert err["error"]["details"] == {"accepted": ["application/json"]}
    for ctype in ("application/json", "application/json; charset=utf-8",
                  "application/merge-patch+json"):
        r = api.post("/api/v1/auth/login", content=body, headers={"Content-Type": ctype})
        assert r.status_code == 200, (ctype, r.text)
