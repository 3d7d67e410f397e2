"""Checking an SM2-suite PDF with implementations that are not ours.

Every SM2 signature in the document — each party's, the certification, the
seal, every timestamp token, every certificate of every chain, every OCSP
response and CRL in the DSS — is verified twice: by the ``openssl`` command
line (OpenSSL 3's SM2/SM3, a C implementation) and by ``gmssl``, a pure-Python
SM2/SM3 from PyPI. Every SM3 digest is computed by both too. None of the
project's SM2 code (``signing.gm``) is used here.

What OpenSSL 3.0's command line can and cannot do with SM2 (found out here,
on OpenSSL 3.0.19; the tests rely on exactly this):

* ``openssl pkeyutl -verify -rawin -digest sm3 -pkeyopt distid:1234567812345678``
  verifies any SM2 signature over given bytes: used for everything.
* ``openssl verify -vfyopt distid:…`` applies the signer ID only to the
  certificate named on the command line; certificates it finds in
  ``-CAfile``/``-untrusted`` are checked with an empty ID and fail. So each
  link is checked on its own: ``-partial_chain -CAfile ISSUER CERT``. A root's
  own signature is never checked with the ID (``-check_ss_sig`` ignores it).
* ``openssl cms -verify`` has no way to pass the signer ID and verifies SM2
  with an empty one, so it rejects every GM/T 0009 signature (and ``openssl cms
  -sign`` cannot sign with SM2 at all). With ``-nosigs -noverify`` it still
  parses the SignedData and checks the SM3 message digest against the
  content: used for that. ``openssl ts``, ``ocsp`` and ``crl`` verify through
  the same code and fail the same way.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO
from pathlib import Path

from asn1crypto import algos, cms, crl, keys, ocsp, pem, tsp, x509
from gmssl import func as gm_func
from gmssl import sm2 as gm_sm2
from gmssl import sm3 as gm_sm3
from pyhanko.pdf_utils.reader import PdfFileReader

SIGNER_ID = "1234567812345678"
OID_SM3 = "1.2.156.10197.1.401"
OID_SM2_SM3 = "1.2.156.10197.1.501"
OID_SM2_CURVE = "1.2.156.10197.1.301"


def _run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(args, input=stdin, capture_output=True)


@dataclass
class Peers:
    """The two outside implementations, and a log of what each confirmed."""

    workdir: Path
    checked: list[str] = field(default_factory=list)
    _n: int = 0

    def _file(self, data: bytes, suffix: str) -> Path:
        self._n += 1
        path = self.workdir / f"{self._n:04d}{suffix}"
        path.write_bytes(data)
        return path

    # -- SM3 -----------------------------------------------------------------------------------

    def sm3_openssl(self, data: bytes) -> bytes:
        out = _run("openssl", "dgst", "-sm3", "-binary", stdin=data)
        assert out.returncode == 0, out.stderr
        return out.stdout

    @staticmethod
    def sm3_gmssl(data: bytes) -> bytes:
        return bytes.fromhex(gm_sm3.sm3_hash(gm_func.bytes_to_list(data)))

    def sm3(self, data: bytes) -> bytes:
        """SM3 by both; they must agree."""
        a, b = self.sm3_openssl(data), self.sm3_gmssl(data)
        assert a == b, "openssl and gmssl disagree on an SM3 digest"
        return a

    # -- SM2 -----------------------------------------------------------------------------------

    def verify_openssl(self, spki: keys.PublicKeyInfo, data: bytes, signature: bytes) -> bool:
        out = _run("openssl", "pkeyutl", "-verify", "-rawin", "-digest", "sm3",
                   "-pkeyopt", f"distid:{SIGNER_ID}", "-pubin", "-keyform", "DER",
                   "-inkey", str(self._file(spki.dump(), ".pub.der")),
                   "-in", str(self._file(data, ".msg")),
                   "-sigfile", str(self._file(signature, ".sig")))
        return out.returncode == 0

    @staticmethod
    def verify_gmssl(spki: keys.PublicKeyInfo, data: bytes, signature: bytes) -> bool:
        point = bytes(spki["public_key"])
        assert point[0] == 4 and len(point) == 65
        xy = point[1:].hex()
        crypt = gm_sm2.CryptSM2(private_key="", public_key=xy)
        crypt.public_key = xy  # its constructor lstrip("04")s the hex, eating leading digits
        rs = algos.DSASignature.load(signature).native
        return bool(crypt.verify_with_sm3(f"{rs['r']:064x}{rs['s']:064x}", data))

    def verify(self, spki: keys.PublicKeyInfo, data: bytes, signature: bytes, what: str) -> None:
        """An SM2-with-SM3 signature (GM/T 0009 default signer ID), by both."""
        params = spki["algorithm"]["parameters"]
        assert spki["algorithm"]["algorithm"].native == "ec" and params.chosen.dotted == (
            OID_SM2_CURVE), f"{what}: not an SM2 key (GM/T 0015: id-ecPublicKey + SM2 curve)"
        assert self.verify_openssl(spki, data, signature), f"{what}: openssl refuses"
        assert self.verify_gmssl(spki, data, signature), f"{what}: gmssl refuses"
        self.checked.append(what)

    def refused_by_both(self, spki: keys.PublicKeyInfo, data: bytes, signature: bytes) -> bool:
        return not self.verify_openssl(spki, data, signature) and not self.verify_gmssl(
            spki, data, signature)

    def openssl_link(self, cert: x509.Certificate, issuer: x509.Certificate,
                     at: datetime) -> None:
        """``openssl verify``'s own X.509 check of one link, at ``at``."""
        out = _run("openssl", "verify", "-partial_chain", "-vfyopt", f"distid:{SIGNER_ID}",
                   "-attime", str(int(at.timestamp())),
                   "-CAfile", str(self._file(pem.armor("CERTIFICATE", issuer.dump()), ".pem")),
                   str(self._file(pem.armor("CERTIFICATE", cert.dump()), ".pem")))
        assert out.returncode == 0, (out.stdout + out.stderr).decode(errors="replace")

    def openssl_cms_digest(self, signed_data_der: bytes, content: bytes | None) -> None:
        """``openssl cms -verify -nosigs``: parses the SignedData, checks the SM3 message digest."""
        args = ["openssl", "cms", "-verify", "-nosigs", "-noverify", "-binary", "-inform", "DER",
                "-in", str(self._file(signed_data_der, ".p7")), "-out", "/dev/null"]
        if content is not None:
            args += ["-content", str(self._file(content, ".bin"))]
        out = _run(*args)
        assert out.returncode == 0, out.stderr.decode(errors="replace")


def _sig_alg_is_sm2(algorithm: algos.SignedDigestAlgorithm, what: str) -> None:
    assert algorithm["algorithm"].dotted == OID_SM2_SM3, f"{what}: {algorithm.native}"
    # GM/T 0015 / GM/T 0010: no parameters (neither NULL nor absent-but-encoded)
    assert algorithm.dump() == algos.SignedDigestAlgorithm.load(
        bytes.fromhex("300a06082a811ccf55018375")).dump(), f"{what}: parameters present"


def _attr(info: cms.SignerInfo, name: str):
    for attr in info["signed_attrs"]:
        if attr["type"].native == name:
            return attr["values"][0]
    raise AssertionError(f"no {name} attribute")


class Sm2DocumentCheck:
    """Every SM2 signature of one PDF, checked by :class:`Peers`."""

    def __init__(self, pdf: bytes, roots: list[x509.Certificate], workdir: Path):
        self.pdf = pdf
        self.roots = {r.dump() for r in roots}
        self.peers = Peers(workdir)
        self.reader = PdfFileReader(BytesIO(pdf), strict=False)
        self.certs: dict[bytes, x509.Certificate] = {r.dump(): r for r in roots}
        self._verified_certs: set[bytes] = set()

    def _collect(self, signed_data: cms.SignedData) -> None:
        for choice in signed_data["certificates"] or ():
            self.certs.setdefault(choice.chosen.dump(), choice.chosen)

    def _signer(self, signed_data: cms.SignedData) -> x509.Certificate:
        sid = signed_data["signer_infos"][0]["sid"].chosen
        for cert in self.certs.values():
            if cert.issuer == sid["issuer"] and cert.serial_number == sid["serial_number"].native:
                return cert
        raise AssertionError("signer certificate not found")

    def _issuer(self, cert: x509.Certificate) -> x509.Certificate:
        for cand in self.certs.values():
            if cand.subject == cert.issuer and cand.key_identifier == (
                    cert.authority_key_identifier):
                return cand
        raise AssertionError(f"no issuer for {cert.subject.human_friendly}")

    def chain(self, cert: x509.Certificate, at: datetime, what: str) -> list[x509.Certificate]:
        """Each link's SM2 signature by both peers, ``openssl verify`` per link, up to a root."""
        path = [cert]
        while True:
            current = path[-1]
            issuer = self._issuer(current)
            _sig_alg_is_sm2(current["signature_algorithm"], f"{what}: certificate")
            if current.dump() not in self._verified_certs:
                self.peers.verify(issuer.public_key, current["tbs_certificate"].dump(),
                                  current["signature_value"].native,
                                  f"certificate {current.subject.native.get('common_name')}")
                if issuer.dump() != current.dump():
                    self.peers.openssl_link(current, issuer, at)
                self._verified_certs.add(current.dump())
            if issuer.dump() == current.dump():
                assert current.dump() in self.roots, f"{what}: ends at an untrusted root"
                return path
            path.append(issuer)

    def signed_data(self, signed_data: cms.SignedData, content_digest: bytes, what: str,
                    at: datetime | None = None) -> x509.Certificate:
        """A CMS SignerInfo: SM3 digest algorithm, SM2 signature over the signed attributes."""
        self._collect(signed_data)
        info = signed_data["signer_infos"][0]
        assert info["digest_algorithm"]["algorithm"].dotted == OID_SM3, what
        _sig_alg_is_sm2(info["signature_algorithm"], what)
        assert _attr(info, "message_digest").native == content_digest, f"{what}: digest"
        signer = self._signer(signed_data)
        ess = _attr(info, "signing_certificate_v2")["certs"][0]
        assert ess["hash_algorithm"]["algorithm"].dotted == OID_SM3
        assert ess["cert_hash"].native == self.peers.sm3(signer.dump()), f"{what}: ESS hash"
        attrs = b"\x31" + info["signed_attrs"].dump()[1:]
        self.peers.verify(signer.public_key, attrs, info["signature"].native, what)
        return signer

    def token(self, token: cms.SignedData, imprint_of: bytes, what: str) -> datetime:
        """An RFC 3161 token: SM3 imprint, its SignerInfo, the TSA's chain at its time."""
        self._collect(token)
        tst = token["encap_content_info"]["content"].parsed
        assert isinstance(tst, tsp.TSTInfo)
        imprint = tst["message_imprint"]
        assert imprint["hash_algorithm"]["algorithm"].dotted == OID_SM3, what
        assert imprint["hashed_message"].native == self.peers.sm3(imprint_of), f"{what}: imprint"
        econtent = token["encap_content_info"]["content"].contents
        tsa = self.signed_data(token, self.peers.sm3(econtent), what)
        self.peers.openssl_cms_digest(
            cms.ContentInfo({"content_type": "signed_data", "content": token}).dump(), None)
        assert "time_stamping" in tsa.extended_key_usage_value.native
        at = tst["gen_time"].native
        self.chain(tsa, at, what)
        return at

    def signature(self, sig) -> None:
        name = sig.field_name
        ranges = [int(x) for x in sig.sig_object["/ByteRange"]]
        signed = b"".join(self.pdf[ranges[i]:ranges[i] + ranges[i + 1]]
                          for i in range(0, len(ranges), 2))
        contents = sig.sig_object["/Contents"].original_bytes
        signed_data = cms.ContentInfo.load(contents)["content"]
        if sig.sig_object.get("/Type") == "/DocTimeStamp":
            self.token(signed_data, signed, f"{name} (document timestamp)")
            return
        signer = self.signed_data(signed_data, self.peers.sm3(signed), name)
        self.peers.openssl_cms_digest(cms.ContentInfo.load(contents).dump(), signed)
        info = signed_data["signer_infos"][0]
        tokens = [a["values"][0]["content"] for a in info["unsigned_attrs"] or ()
                  if a["type"].native == "signature_time_stamp_token"]
        assert len(tokens) == 1, f"{name}: no signature timestamp"
        at = self.token(tokens[0], info["signature"].native, f"{name} (signature timestamp)")
        self.chain(signer, at, name)

    def dss(self) -> None:
        from pyhanko.sign.validation import DocumentSecurityStore

        dss = DocumentSecurityStore.read_dss(self.reader)
        for cert in dss.load_certs():
            self.certs.setdefault(cert.dump(), cert)
        for ref in dss.ocsps:
            response = ocsp.OCSPResponse.load(ref.get_object().data)
            basic = response["response_bytes"]["response"].parsed
            responder = basic["certs"][0]
            self.certs.setdefault(responder.dump(), responder)
            _sig_alg_is_sm2(basic["signature_algorithm"], "OCSP response")
            self.peers.verify(responder.public_key, basic["tbs_response_data"].dump(),
                              basic["signature"].native, "OCSP response")
            produced = basic["tbs_response_data"]["produced_at"].native
            self.chain(responder, produced, "OCSP responder")
            for single in basic["tbs_response_data"]["responses"]:
                assert single["cert_status"].name == "good"
        for ref in dss.crls:
            item = crl.CertificateList.load(ref.get_object().data)
            issuer = next(c for c in self.certs.values()
                          if c.subject == item["tbs_cert_list"]["issuer"])
            _sig_alg_is_sm2(item["signature_algorithm"], "CRL")
            self.peers.verify(issuer.public_key, item["tbs_cert_list"].dump(),
                              item["signature"].native, "CRL")
        assert dss.ocsps, "no OCSP responses in the DSS"

    def run(self) -> list[str]:
        """Check everything; the list of what both peers verified."""
        signatures = self.reader.embedded_signatures
        assert signatures
        self.dss()
        for sig in signatures:
            self.signature(sig)
        return self.peers.checked


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
        offset = ranges[1] // 2  # a byte of the first range, well inside the document
        tampered = bytearray(pdf)
        tampered[offset] ^= 0x01
        signed = b"".join(bytes(tampered[ranges[i]:ranges[i] + ranges[i + 1]])
                          for i in range(0, len(ranges), 2))
        signed_data = cms.ContentInfo.load(sig.sig_object["/Contents"].original_bytes)["content"]
        info = signed_data["signer_infos"][0]
        md = _attr(info, "message_digest").native
        assert peers.sm3_openssl(signed) != md and peers.sm3_gmssl(signed) != md
        attrs = b"\x31" + info["signed_attrs"].dump()[1:]
        forged = attrs.replace(md, peers.sm3(signed))
        assert forged != attrs
        signer = next(c.chosen for c in signed_data["certificates"]
                      if c.chosen.serial_number == info["sid"].chosen["serial_number"].native)
        assert peers.refused_by_both(signer.public_key, forged, info["signature"].native)
        tried += 1
    return tried
