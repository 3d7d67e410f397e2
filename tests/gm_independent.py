"""Checking an SM2-suite PDF with implementations that are not ours: openssl and gmssl.

The walk over the document — every signature, timestamp token, certificate of
every chain, OCSP response and CRL — is the registration offices' offline
checker (:mod:`signing.gm.offline_check`, which runs the ``openssl`` command
line). Here every digest and every signature goes to a second implementation
as well: ``gmssl``, a pure-Python SM2/SM3 from PyPI. Neither touches the
project's own SM2 code (:mod:`signing.gm.sm2`).
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from asn1crypto import algos, cms, keys, x509
from gmssl import func as gm_func
from gmssl import sm2 as gm_sm2
from gmssl import sm3 as gm_sm3
from pyhanko.pdf_utils.reader import PdfFileReader

from signing.gm import offline_check
from signing.gm.offline_check import (
    OID_SM2_CURVE,
    OID_SM2_SM3,
    OpenSsl,
    ses_der,
    ses_fields,
    signed_attr,
    signed_bytes,
)

__all__ = ["OID_SM2_CURVE", "OID_SM2_SM3", "Peers", "Sm2DocumentCheck", "ses_fields",
           "tampering_detected"]


class Peers(OpenSsl):
    """openssl and gmssl: every SM3 digest and every SM2 signature by both."""

    @staticmethod
    def sm3_gmssl(data: bytes) -> bytes:
        return bytes.fromhex(gm_sm3.sm3_hash(gm_func.bytes_to_list(data)))

    def sm3(self, data: bytes) -> bytes:
        a, b = self.sm3_openssl(data), self.sm3_gmssl(data)
        assert a == b, "openssl and gmssl disagree on an SM3 digest"
        return a

    @staticmethod
    def verify_gmssl(spki: keys.PublicKeyInfo, data: bytes, signature: bytes) -> bool:
        point = bytes(spki["public_key"])
        assert point[0] == 4 and len(point) == 65
        xy = point[1:].hex()
        crypt = gm_sm2.CryptSM2(private_key="", public_key=xy)
        crypt.public_key = xy  # its constructor lstrip("04")s the hex, eating leading digits
        rs = algos.DSASignature.load(signature).native
        return bool(crypt.verify_with_sm3(f"{rs['r']:064x}{rs['s']:064x}", data))

    def confirm(self, spki: keys.PublicKeyInfo, data: bytes, signature: bytes) -> bool:
        by_openssl = self.verify_openssl(spki, data, signature)
        by_gmssl = self.verify_gmssl(spki, data, signature)
        assert by_openssl == by_gmssl, "openssl and gmssl disagree on an SM2 signature"
        return by_openssl and by_gmssl

    def refused_by_both(self, spki: keys.PublicKeyInfo, data: bytes, signature: bytes) -> bool:
        return not self.verify_openssl(spki, data, signature) and not self.verify_gmssl(
            spki, data, signature)


class Sm2DocumentCheck(offline_check.Sm2DocumentCheck):
    """:class:`signing.gm.offline_check.Sm2DocumentCheck` with :class:`Peers` as verifier."""

    def __init__(self, pdf: bytes, roots: list[x509.Certificate], workdir: Path):
        super().__init__(pdf, roots, Peers(workdir))


def tampering_detected(pdf: bytes, workdir: Path) -> int:
    """Flip one byte inside each signature's signed range: both peers' SM3 no longer matches
    the signed message digest, and signed attributes forged to carry the new digest fail
    both peers' SM2 check. Returns how many signatures were tried."""
    peers = Peers(workdir)
    reader = PdfFileReader(BytesIO(pdf), strict=False)
    tried = 0
    for sig in reader.embedded_signatures:
        if sig.sig_object.get("/Type") == "/DocTimeStamp":
            continue
        ranges = [int(x) for x in sig.sig_object["/ByteRange"]]
        tampered = bytearray(pdf)
        tampered[ranges[1] // 2] ^= 0x01  # a byte of the first range, well inside
        signed = signed_bytes(bytes(tampered), sig.sig_object)
        signed_data = cms.ContentInfo.load(sig.sig_object["/Contents"].original_bytes)["content"]
        info = signed_data["signer_infos"][0]
        md = signed_attr(info, "message_digest").native
        assert peers.sm3_openssl(signed) != md and peers.sm3_gmssl(signed) != md
        attrs = b"\x31" + info["signed_attrs"].dump()[1:]
        forged = attrs.replace(md, peers.sm3(signed))
        assert forged != attrs
        signer = next(c.chosen for c in signed_data["certificates"]
                      if c.chosen.serial_number == info["sid"].chosen["serial_number"].native)
        assert peers.refused_by_both(signer.public_key, forged, info["signature"].native)
        tried += 1
    for _name, sig_object in ses_fields(reader):  # the GB/T 38540 seal: SM3 is its dataHash
        ranges = [int(x) for x in sig_object["/ByteRange"]]
        tampered = bytearray(pdf)
        tampered[ranges[1] // 2] ^= 0x01
        signed = signed_bytes(bytes(tampered), sig_object)
        der = ses_der(sig_object["/Contents"].original_bytes)
        tbs, cert, _, signature = peers.asn1parse(der).children[:4]
        data_hash = tbs.children[3].bits(der)
        assert peers.sm3_openssl(signed) != data_hash and peers.sm3_gmssl(signed) != data_hash
        forged = tbs.der(der).replace(data_hash, peers.sm3(signed))
        assert forged != tbs.der(der)
        signer = x509.Certificate.load(cert.content(der))
        assert peers.refused_by_both(signer.public_key, forged, signature.bits(der))
        tried += 1
    return tried
