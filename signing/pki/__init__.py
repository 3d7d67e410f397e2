"""The platform's own PKI: CAs, the filing seal, the TSA, CRLs and OCSP.

See :mod:`signing.pki.authority` for the hierarchy and the data directory;
``certs/pki.toml`` for names, lifetimes and key types.
"""

from signing.pki.authority import CA_NAMES, ROLES, IssuedSigner, Pki, PkiSettings
from signing.pki.identity import id_hash, mask_id_number

__all__ = [
    "CA_NAMES",
    "ROLES",
    "IssuedSigner",
    "Pki",
    "PkiSettings",
    "id_hash",
    "mask_id_number",
]
