"""How a person's identity appears in their signing certificate.

A certificate embedded in a contract PDF is readable by anyone the PDF is
given to (banks, tax offices, ...), so it must not carry the plain ID number
(PIPL: ID numbers are sensitive personal data). The subject carries:

* ``common_name``: the name, as on the contract;
* a configurable attribute with the masked ID (``4201**********1234``), enough
  for a human to match the certificate to the printed party;
* ``serial_number``: HMAC-SHA256 of the normalised ID under a secret key, so
  the platform (and only the platform) can tell that two certificates were
  issued to the same person, without the hash being reversible by brute force
  over the small space of valid ID numbers.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata

from asn1crypto import x509

__all__ = ["id_hash", "mask_id_number", "normalise_id_number", "signer_subject"]


def normalise_id_number(id_number: str) -> str:
    """Canonical form: NFKC (full-width digits), no spaces, upper-case check digit X."""
    return "".join(unicodedata.normalize("NFKC", id_number).split()).upper()


def mask_id_number(id_number: str) -> str:
    """``420102199001011234`` → ``4201**********1234`` (first 4 and last 4 kept).

    Short identifiers (passports, HK/Macau permits) keep less so that at
    least half is always masked.
    """
    value = normalise_id_number(id_number)
    if not value:
        raise ValueError("empty ID number")
    keep = 4 if len(value) >= 16 else max(1, len(value) // 4)
    if len(value) <= 2 * keep:
        return "*" * len(value)
    return value[:keep] + "*" * (len(value) - 2 * keep) + value[-keep:]


def id_hash(id_number: str, key: bytes) -> str:
    """Keyed hash of the ID for the certificate's ``serialNumber`` (64 hex chars).

    64 characters is exactly the X.520 upper bound for serialNumber.
    """
    if len(key) < 16:
        raise ValueError("ID hash key must be at least 16 bytes")
    digest = hmac.new(key, normalise_id_number(id_number).encode("utf-8"), hashlib.sha256)
    return digest.hexdigest().upper()


def signer_subject(
    name: str,
    id_number: str,
    *,
    key: bytes,
    masked_id_attribute: str,
    base: dict[str, str],
) -> x509.Name:
    """The subject of a party's certificate; never contains the plain ID."""
    name = name.strip()
    if not name:
        raise ValueError("empty signer name")
    attrs = dict(base)
    attrs[masked_id_attribute] = mask_id_number(id_number)
    attrs["serial_number"] = id_hash(id_number, key)
    attrs["common_name"] = name
    return x509.Name.build(attrs)
