"""Check PDF signatures with poppler's ``pdfsig`` (NSS), independently of pyHanko.

``pdfsig`` needs the trust anchor in an NSS database. The root is imported
with trust ``C,C,C``: poppler checks PDF signers against NSS's *e-mail
signer* usage, which only counts a CA trusted for S/MIME (the middle flag);
``C,,`` (SSL only) reports "Certificate issuer isn't Trusted".

poppler 22.x also reports a *successful* chain check as "Unknown issue with
Certificate or corrupted data" when an earlier NSS call left an error code
behind — which is what happens when its online OCSP check cannot reach the
responder, or when OCSP is switched off with ``-no-ocsp``. So a trusted
result needs the certificates' OCSP URL to answer: tests serve
``Pki.ocsp_response`` over HTTP on the URL the PKI was created with.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PdfsigResult", "available", "make_nss_db", "run_pdfsig"]


@dataclass(frozen=True)
class PdfsigResult:
    field_name: str
    signer: str | None
    signature_type: str | None
    signature_validation: str | None
    certificate_validation: str | None
    total_document_signed: bool

    @property
    def signature_valid(self) -> bool:
        return self.signature_validation == "Signature is Valid."

    @property
    def certificate_trusted(self) -> bool:
        return self.certificate_validation == "Certificate is Trusted."


def available() -> bool:
    return shutil.which("pdfsig") is not None and shutil.which("certutil") is not None


def make_nss_db(directory: Path, roots_pem: bytes) -> str:
    """A fresh NSS database trusting the root(s) in ``roots_pem``; returns ``sql:DIR``."""
    directory.mkdir(parents=True, exist_ok=True)
    db = f"sql:{directory}"
    subprocess.run(["certutil", "-N", "--empty-password", "-d", db], check=True)
    blocks = re.findall(
        rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", roots_pem, re.S
    )
    for n, block in enumerate(blocks):
        pem_file = directory / f"root{n}.pem"
        pem_file.write_bytes(block + b"\n")
        subprocess.run(
            ["certutil", "-A", "-n", f"root{n}", "-t", "C,C,C", "-i", str(pem_file), "-d", db],
            check=True,
        )
    return db


def _parse(output: str) -> list[PdfsigResult]:
    results = []
    for block in re.split(r"^Signature #\d+:\s*$", output, flags=re.M)[1:]:
        fields: dict[str, str] = {}
        total = False
        for line in block.splitlines():
            line = line.strip()
            if not line.startswith("- "):
                continue
            line = line[2:]
            if line == "Total document signed":
                total = True
            key, sep, value = line.partition(": ")
            if sep:
                fields[key] = value.strip()
        results.append(
            PdfsigResult(
                field_name=fields.get("Signature Field Name", ""),
                signer=fields.get("Signer Certificate Common Name"),
                signature_type=fields.get("Signature Type"),
                signature_validation=fields.get("Signature Validation"),
                certificate_validation=fields.get("Certificate Validation"),
                total_document_signed=total,
            )
        )
    return results


def run_pdfsig(pdf_path: Path, nss_db: str, *, ocsp: bool = True) -> dict[str, PdfsigResult]:
    """pdfsig's verdict per signature field name."""
    args = ["pdfsig", "-nssdir", nss_db]
    if not ocsp:
        args.append("-no-ocsp")
    completed = subprocess.run([*args, str(pdf_path)], capture_output=True, text=True, timeout=120)
    if completed.returncode not in (0, 1, 2):
        raise RuntimeError(f"pdfsig failed ({completed.returncode}): {completed.stderr}")
    return {r.field_name: r for r in _parse(completed.stdout)}
