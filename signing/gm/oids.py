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


def register() -> None:
    """Make asn1crypto know the identifiers (idempotent; done on import)."""
    keys.NamedCurve.register("sm2p256v1", SM2_CURVE, 32)
    algos.SignedDigestAlgorithmId._map[SM2_WITH_SM3] = "sm2_sm3"
    algos.SignedDigestAlgorithmId._reverse_map = None
    algos.DigestAlgorithmId._map[SM3] = "sm3"
    algos.DigestAlgorithmId._reverse_map = None
    cms.ContentType._map.setdefault(SM2_CMS_DATA, "sm2_data")
    cms.ContentType._map.setdefault(SM2_CMS_SIGNED_DATA, "sm2_signed_data")
    cms.ContentType._reverse_map = None


register()
