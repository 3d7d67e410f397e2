"""The GM/T object identifiers, registered with asn1crypto so its structures name them.

asn1crypto knows the SM2 curve and SM3 only partly; registering the names once lets
certificates, CMS SignedData and CRLs built with asn1crypto carry the GM/T 0006 /
GM/T 0010 identifiers by name (``sm2``, ``sm3``, ``sm2_sm3``) instead of raw dotted
strings scattered through the code.
"""

from __future__ import annotations

from asn1crypto import algos, cms, keys

SM2_CURVE = "1.2.156.10197.1.301"
SM2_WITH_SM3 = "1.2.156.10197.1.501"
SM3 = "1.2.156.10197.1.401"
SM4 = "1.2.156.10197.1.104"
SM2_CMS_DATA = "1.2.156.10197.6.1.4.2.1"
SM2_CMS_SIGNED_DATA = "1.2.156.10197.6.1.4.2.2"

#: GM/T 0009's default signer ID, mixed into the Z value of every SM2 signature.
DEFAULT_USER_ID = b"1234567812345678"


def _name(cls: type, dotted: str, name: str) -> None:
    """Add ``dotted`` ↔ ``name`` to an asn1crypto ObjectIdentifier class's maps.

    asn1crypto builds ``_reverse_map`` once per class, on its first instance, and never
    again: resetting it to None after that breaks every later instance of the class (a
    TypeError on construction), so an existing reverse map is extended instead. Import
    order then does not matter."""
    cls._map[dotted] = name
    if cls._reverse_map is not None:
        cls._reverse_map[name] = dotted


def register() -> None:
    """Make asn1crypto know the identifiers (idempotent; done on import)."""
    keys.NamedCurve.register("sm2p256v1", SM2_CURVE, 32)
    _name(algos.SignedDigestAlgorithmId, SM2_WITH_SM3, "sm2_sm3")
    _name(algos.DigestAlgorithmId, SM3, "sm3")
    _name(cms.ContentType, SM2_CMS_DATA, "sm2_data")
    _name(cms.ContentType, SM2_CMS_SIGNED_DATA, "sm2_signed_data")

register()
