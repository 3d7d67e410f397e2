"""The digests the PKI and the signatures use, by their asn1crypto names.

SHA-2 for the ECDSA suite, SM3 (GB/T 32905) for the SM2 suite. SM3 comes from
``cryptography``'s own OpenSSL build, so it does not depend on how the
system's ``hashlib`` was built.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes

__all__ = ["DIGEST_SIZES", "digest"]

_ALGORITHMS: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
    "sm3": hashes.SM3,
}
DIGEST_SIZES = {name: algorithm.digest_size for name, algorithm in _ALGORITHMS.items()}


def digest(name: str, data: bytes) -> bytes:
    """``name``'s digest of ``data`` (KeyError for a digest we do not use)."""
    md = hashes.Hash(_ALGORITHMS[name]())
    md.update(data)
    return md.finalize()
