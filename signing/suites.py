"""Signing suites: which algorithms one deployment signs with (``SIGNING_SUITE``).

A suite fixes, for the whole PKI and every signature in every document, the
key type and the digest:

* ``ecdsa-p256`` (the default): ECDSA keys as ``certs/pki.toml`` lists them
  (P-384 root, P-256 elsewhere) with SHA-256. pyHanko, poppler/NSS and Adobe
  validate these documents.
* ``sm2``: 国密. Every key is SM2 (GB/T 32918) and every signature SM2 with SM3
  (GM/T 0006 ``1.2.156.10197.1.501``), every digest SM3 (GB/T 32905): the
  certificates (GM/T 0015 profile), CRLs, OCSP responses, RFC 3161 tokens and
  the CMS signatures in the PDF (GM/T 0010 algorithm identifiers). pyHanko
  cannot check SM2, so :mod:`signing.gm.verify` does (with OpenSSL 3 through
  :mod:`signing.gm.sm2`).

Switching the suite of a deployment starts a second PKI beside the first
(:meth:`SigningSuite.pki_subdir`): keys of one suite are never loaded by the
other, and documents signed before keep their own certificates and validation
data.
"""

from __future__ import annotations

from dataclasses import dataclass

from signing.keys import SM2_KEY, KeySpec

__all__ = ["ECDSA_P256", "SM2", "SUITES", "SigningSuite", "get_suite"]


@dataclass(frozen=True)
class SigningSuite:
    name: str  # the SIGNING_SUITE value
    digest: str  # every digest: byte ranges, signed attributes, imprints, certificates
    label: str  # for reports: what the signatures are
    key: KeySpec | None  # every key of the PKI; None: each as certs/pki.toml says

    @property
    def is_sm2(self) -> bool:
        return self.name == SM2.name

    def pki_subdir(self) -> str | None:
        """Where this suite's keys, certificates and revocations live inside the PKI
        directory: the default suite at its top (as before suites existed)."""
        return None if self.key is None else self.name


ECDSA_P256 = SigningSuite("ecdsa-p256", "sha256", "ECDSA / SHA-256", None)
SM2 = SigningSuite("sm2", "sm3", "SM2 / SM3", SM2_KEY)
SUITES = {s.name: s for s in (ECDSA_P256, SM2)}


def get_suite(name: str | SigningSuite) -> SigningSuite:
    """The suite called ``name`` (ValueError naming the choices otherwise)."""
    if isinstance(name, SigningSuite):
        return name
    try:
        return SUITES[name]
    except KeyError:
        raise ValueError(f"unknown signing suite {name!r} (use {', '.join(SUITES)})") from None
