"""Fixtures for the signing tests: one PKI per session, served over HTTP like ``/pki/``.

The PKI is created once per test session in a temporary directory (keys are
never written to the repository) with its clock three days in the past, so
tests can sign "days before filing" with CA certificates that already
existed then; afterwards its clock is the real one.

Its CRL/OCSP/CA URLs point at a small HTTP server in a thread, answering
with the PKI's own functions — which lets ``pdfsig`` (NSS) do the online
OCSP check it insists on (see :mod:`tests.pdfsig`).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from signing.document import SEAL_FIELD_NAME, SignatureSlot
from signing.pades import SignerRequest, file_document, prepare_for_signing, sign_party
from signing.pki import Pki
from signing.pki.ocsp import decode_get_request
from tests import pdfsig

AUTHORITY = "咸宁市住房和城乡建设局"
FILING_NO = "XN-BA-2026-000123"
PASSPHRASE = b"test passphrase, not for production"


class _PkiHandler(BaseHTTPRequestHandler):
    server: _PkiServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        pki = self.server.pki
        path = self.path
        self.server.requests.append(("GET", path))
        if pki is not None and path.startswith("/pki/ocsp/"):
            request = decode_get_request(path[len("/pki/ocsp/") :])
            self._send(200, pki.ocsp_response(request), "application/ocsp-response")
        elif pki is not None and path.startswith("/pki/crl/") and path.endswith(".crl"):
            self._send(200, pki.crl_der(path[len("/pki/crl/") : -4]), "application/pkix-crl")
        elif pki is not None and path.startswith("/pki/ca/") and path.endswith(".cer"):
            self._send(200, pki.ca_cert_der(path[len("/pki/ca/") : -4]), "application/pkix-cert")
        else:
            self._send(404, b"", "text/plain")

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        pki = self.server.pki
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.requests.append(("POST", self.path))
        if pki is not None and self.path == "/pki/ocsp":
            self._send(200, pki.ocsp_response(body), "application/ocsp-response")
        elif pki is not None and self.path == "/pki/tsa":
            self._send(200, pki.tsa_response(body), "application/timestamp-reply")
        else:
            self._send(404, b"", "text/plain")


class _PkiServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _PkiHandler)
        self.pki: Pki | None = None
        self.requests: list[tuple[str, str]] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture(scope="session")
def pki_server() -> Iterator[_PkiServer]:
    server = _PkiServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _past(days: int):
    return lambda: datetime.now(UTC) - timedelta(days=days)


@pytest.fixture(scope="session")
def pki(pki_server: _PkiServer, tmp_path_factory: pytest.TempPathFactory) -> Pki:
    data_dir = tmp_path_factory.mktemp("pki")
    created = Pki.load_or_create(data_dir, PASSPHRASE, pki_server.base_url, clock=_past(3))
    created.clock = lambda: datetime.now(UTC)
    pki_server.pki = created
    return created


@pytest.fixture(scope="session")
def nss_db(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> str:
    if not pdfsig.available():
        pytest.skip("pdfsig/certutil not installed (Debian poppler-utils, libnss3-tools)")
    return pdfsig.make_nss_db(tmp_path_factory.mktemp("nss"), pki.roots_pem())


def handwriting(seed: int = 1, *, background: tuple[int, ...] | None = None) -> bytes:
    """A plausible signature PNG: a few connected strokes on a phone-sized canvas."""
    mode = "RGBA" if background is None else "RGB"
    image = Image.new(mode, (700, 280), background or (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    points = [(60 + i * 62, 140 + ((i * seed * 53) % 110) - 55) for i in range(10)]
    ink = (20, 20, 20, 255) if background is None else (20, 20, 20)
    draw.line(points, fill=ink, width=9, joint="curve")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@dataclass(frozen=True)
class Contract:
    pdf: bytes
    slots: tuple[SignatureSlot, ...]
    party_fields: tuple[str, ...]


@pytest.fixture(scope="session")
def contract() -> Contract:
    """Two sellers and one buyer: the project's sample contract, or a typst stand-in."""
    try:
        from signing.render import render_contract
        from tests.samples import sample_contract_document
    except ImportError:  # renderer not there yet: a one-page PDF with known boxes
        return _typst_contract()
    rendered = render_contract(sample_contract_document())
    parties = tuple(s.field_name for s in rendered.slots if s.field_name != SEAL_FIELD_NAME)
    assert len(parties) == 3
    return Contract(rendered.pdf, rendered.slots, parties)


def _typst_contract() -> Contract:
    import typst

    from signing.appearance import text_font_path

    source = '#set page(paper: "a4")\n#set text(font: "Noto Sans SC")\n存量房买卖合同\n'
    pdf = typst.compile(source.encode(), font_paths=[str(text_font_path().parent)])
    assert isinstance(pdf, bytes)
    slots = (
        SignatureSlot("party-s1", 1, 70, 600, 193, 74),
        SignatureSlot("party-s2", 1, 70, 480, 193, 74),
        SignatureSlot("party-b1", 1, 313, 600, 193, 74),
        SignatureSlot(SEAL_FIELD_NAME, 1, 400, 300, 125, 125),
    )
    return Contract(pdf, slots, ("party-s1", "party-s2", "party-b1"))


PARTIES = (
    ("王建国", "421202197503123518"),
    ("李秀英", "421202197808214024"),
    ("陈晓明", "421281199006152334"),
)


@pytest.fixture(scope="session")
def prepared(contract: Contract, pki: Pki) -> bytes:
    return prepare_for_signing(contract.pdf, contract.slots, pki=pki)


@dataclass
class SignedContract:
    prepared: bytes
    revisions: list[bytes] = field(default_factory=list)  # after each party signature
    filed: bytes = b""
    requests: dict[str, SignerRequest] = field(default_factory=dict)


@pytest.fixture(scope="session")
def signed(contract: Contract, prepared: bytes, pki: Pki) -> SignedContract:
    """prepare → two sellers and one buyer sign → filed (seal, B-LT, B-LTA)."""
    result = SignedContract(prepared)
    pdf = prepared
    for n, (field_name, (name, id_number)) in enumerate(
        zip(contract.party_fields, PARTIES, strict=True)
    ):
        request = SignerRequest(name, id_number, handwriting(n + 1), datetime.now(UTC))
        pdf = sign_party(pdf, field_name, request, pki=pki)
        result.revisions.append(pdf)
        result.requests[field_name] = request
    result.filed = file_document(pdf, AUTHORITY, FILING_NO, pki=pki)
    return result


@pytest.fixture()
def write_pdf(tmp_path: Path):
    def write(data: bytes, name: str = "doc.pdf") -> Path:
        path = tmp_path / name
        path.write_bytes(data)
        return path

    return write


# -- the SM2 suite (国密): one PKI and one filed contract per module that asks -----------------

@dataclass(frozen=True)
class Filed:
    pki: Pki
    pdf: bytes
    parties: tuple[str, ...]


@pytest.fixture(scope="module")
def sm2_pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return Pki.load_or_create(tmp_path_factory.mktemp("pki"), PASSPHRASE, "http://127.0.0.1:9",
                              suite="sm2")


@pytest.fixture(scope="module")
def filed(sm2_pki: Pki, contract: Contract) -> Filed:
    pdf = prepare_for_signing(contract.pdf, contract.slots, pki=sm2_pki)
    for n, (field_name, (name, id_number)) in enumerate(
            zip(contract.party_fields, PARTIES, strict=True)):
        request = SignerRequest(name, id_number, handwriting(n + 1), datetime.now(UTC))
        pdf = sign_party(pdf, field_name, request, pki=sm2_pki)
    return Filed(sm2_pki, file_document(pdf, AUTHORITY, FILING_NO, pki=sm2_pki),
                 contract.party_fields)
