"""A second, real RFC 3161 TSA for tests: ``openssl ts -reply`` behind a tiny HTTP server.

Its CA and TSA keys are generated per run in a temporary directory. The
server can be stopped (connection refused: a TSA that is down), slowed
down, or restarted on the same port.
"""

from __future__ import annotations

import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

DEFAULT_POLICY = "1.2.3.4.1"
OTHER_POLICY = "1.2.3.4.5"

_TS_CONFIG = """\
[ tsa ]
default_tsa = tsa_config1

[ tsa_config1 ]
dir = {dir}
serial = $dir/tsaserial
crypto_device = builtin
signer_cert = $dir/tsa.pem
certs = $dir/ca.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = {default_policy}
other_policies = {other_policy}
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def _run(*args: str | Path, cwd: Path) -> None:
    subprocess.run([str(a) for a in args], cwd=cwd, check=True, capture_output=True)


def make_tsa_pki(work: Path, name: str = "Test Time-Stamping Authority") -> Path:
    """CA + TSA certificate (critical EKU timeStamping) + ``openssl ts`` config; returns
    the config path. ``work / "ca.pem"`` is the trust anchor."""
    work.mkdir(parents=True, exist_ok=True)
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes")
    _run("openssl", "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "30",
         "-subj", "/C=CN/O=Test Time Service/CN=Test Time Root CA",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=work)
    _run("openssl", "req", "-new", *ec, "-keyout", "tsa.key", "-out", "tsa.csr",
         "-subj", f"/C=CN/O=Test Time Service/CN={name}", cwd=work)
    (work / "tsa.ext").write_text("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                                  "extendedKeyUsage=critical,timeStamping\n")
    _run("openssl", "x509", "-req", "-in", "tsa.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
         "-CAcreateserial", "-out", "tsa.pem", "-days", "30", "-extfile", "tsa.ext", cwd=work)
    (work / "tsaserial").write_text("01\n")
    config = work / "tsa.cnf"
    config.write_text(_TS_CONFIG.format(dir=work, default_policy=DEFAULT_POLICY,
                                        other_policy=OTHER_POLICY))
    return config


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        owner = self.server.owner
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        owner.requests += 1
        if owner.delay_s:
            time.sleep(owner.delay_s)
        if owner.budget is not None:
            if owner.budget <= 0:
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            owner.budget -= 1
        with tempfile.NamedTemporaryFile(dir=owner.work, suffix=".tsq") as query, \
                tempfile.NamedTemporaryFile(dir=owner.work, suffix=".tsr") as reply:
            query.write(body)
            query.flush()
            with owner.lock:  # openssl ts -reply increments one serial file
                done = subprocess.run(
                    ["openssl", "ts", "-reply", "-config", str(owner.config),
                     "-queryfile", query.name, "-out", reply.name], capture_output=True)
            answer = Path(reply.name).read_bytes() if done.returncode == 0 else b""
        status = 200 if answer else 500
        self.send_response(status)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: ExternalTsa


class ExternalTsa:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.config = make_tsa_pki(work)
        self.ca_pem = work / "ca.pem"
        self.tsa_pem = work / "tsa.pem"
        self.lock = threading.Lock()
        self.delay_s = 0.0
        # requests still answered before it starts failing with 503 (None: no limit)
        self.budget: int | None = None
        self.requests = 0
        self._server: _Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/tsa"

    def start(self) -> ExternalTsa:
        server = _Server(("127.0.0.1", self.port), _Handler)
        server.owner = self
        self.port = server.server_address[1]
        self._server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Down: nothing listens on the port any more (connection refused)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
