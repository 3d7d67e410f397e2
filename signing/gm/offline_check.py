"""Check every SM2 signature of a filed contract offline, with the ``openssl`` command line.

For registration offices (``python -m server pki trust-config`` writes this file
as ``sm2_check.py`` beside ``roots.pem``) and for this project's tests. It uses
no code of the platform: the PDF is read with pyHanko's reader (only to find
the signature dictionaries and the DSS), DER with asn1crypto, and every digest
and signature is computed by OpenSSL 3's own command line::

    pip install pyhanko        # brings asn1crypto; OpenSSL 3 (Debian 12: apt install openssl)
    python sm2_check.py --roots roots.pem FILED.pdf            # exit 0: every check passed
    python sm2_check.py --roots roots.pem --show-commands --keep work/ FILED.pdf
                               # every openssl command, and the files it ran on, kept

What is checked, for each signature, the certification, the seal and the
document (archive) timestamp: the SM3 digest of the signed byte ranges
against the signed message digest (``openssl dgst -sm3`` and ``openssl cms
-verify -nosigs``), the SM2 signature over the signed attributes (``openssl
pkeyutl -verify -rawin -digest sm3 -pkeyopt distid:1234567812345678``), the
signature timestamp (imprint = SM3 of the signature, the TSA's SM2 signature),
every certificate of every chain up to a root in ``--roots`` (``pkeyutl`` over
each TBSCertificate, and ``openssl verify`` link by link at the signing time),
and every OCSP response and CRL in the document's DSS.

The authority's seal is a GB/T 38540 electronic seal (``/SubFilter /GB.T38540.SES``;
pyHanko's reader does not list it, so it is found by that value): its SES_Signature is
decoded by ``openssl asn1parse``; the SM3 of the byte ranges must be its dataHash; the
seal key's SM2 signature over TBS_Sign and the seal maker's (the platform's) over the
seal's eSealInfo are verified by ``pkeyutl`` over the exact DER openssl delimits; the
timestamp must cover the signature value; both certificates must chain to a root.

What OpenSSL 3.0's command line can and cannot do with SM2 (found out on
OpenSSL 3.0.19; this file relies on exactly this):

* ``pkeyutl -verify -rawin -digest sm3 -pkeyopt distid:…`` verifies any SM2
  signature over given bytes: used for every signature.
* ``openssl verify -vfyopt distid:…`` applies the signer ID only to the
  certificate named on the command line; certificates it finds in
  ``-CAfile``/``-untrusted`` are checked with an empty ID and fail. So each
  link is checked on its own (``-partial_chain -CAfile ISSUER CERT``); a root's
  own signature is never checked with the ID (``-check_ss_sig`` ignores it).
* ``openssl cms -verify`` cannot be given a signer ID and verifies SM2 with an
  empty one, so it rejects every GM/T 0009 signature (``openssl cms -sign``
  cannot sign with SM2 at all). With ``-nosigs -noverify`` it still parses the
  SignedData and checks the SM3 message digest against the content: used for
  that. ``openssl ts``, ``ocsp`` and ``crl`` verify through the same code and
  fail the same way.
"""

from __future__ import annotations

import argparse
import re
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from pathlib import Path

from asn1crypto import algos, cms, crl, keys, ocsp, pem, tsp, x509

SIGNER_ID = "1234567812345678"  # GM/T 0009's default signer ID
OID_SM3 = "1.2.156.10197.1.401"
OID_SM2_SM3 = "1.2.156.10197.1.501"
OID_SM2_CURVE = "1.2.156.10197.1.301"
# AlgorithmIdentifier { sm2-with-sm3 } with no parameters (GM/T 0015, GM/T 0010)
SM2_SM3_ALGORITHM = bytes.fromhex("300a06082a811ccf55018375")


class CheckFailed(AssertionError):
    """One check did not pass; the message says which."""


def _require(condition: object, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


class OpenSsl:
    """The ``openssl`` command line as the verifier, with a log of what it confirmed."""

    name = "openssl"

    def __init__(self, workdir: Path, *, show_commands: bool = False):
        self.workdir = workdir
        self.show_commands = show_commands
        self.checked: list[str] = []
        self._n = 0

    def _file(self, data: bytes, suffix: str) -> Path:
        self._n += 1
        path = self.workdir / f"{self._n:04d}{suffix}"
        path.write_bytes(data)
        return path

    def _run(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        if self.show_commands:
            print("  $", shlex.join(args))
        return subprocess.run(args, capture_output=True)

    # -- SM3 -----------------------------------------------------------------------------------

    def sm3_openssl(self, data: bytes) -> bytes:
        out = self._run("openssl", "dgst", "-sm3", "-binary", str(self._file(data, ".bin")))
        _require(out.returncode == 0, out.stderr.decode(errors="replace"))
        return out.stdout

    def sm3(self, data: bytes) -> bytes:
        return self.sm3_openssl(data)

    # -- SM2 -----------------------------------------------------------------------------------

    def verify_openssl(self, spki: keys.PublicKeyInfo, data: bytes, signature: bytes) -> bool:
        out = self._run("openssl", "pkeyutl", "-verify", "-rawin", "-digest", "sm3",
                        "-pkeyopt", f"distid:{SIGNER_ID}", "-pubin", "-keyform", "DER",
                        "-inkey", str(self._file(spki.dump(), ".pub.der")),
                        "-in", str(self._file(data, ".msg")),
                        "-sigfile", str(self._file(signature, ".sig")))
        return out.returncode == 0

    def confirm(self, spki: keys.PublicKeyInfo, data: bytes, signature: bytes) -> bool:
        """Every verifier this checker has accepts the signature."""
        return self.verify_openssl(spki, data, signature)

    def verify(self, spki: keys.PublicKeyInfo, data: bytes, signature: bytes, what: str) -> None:
        """An SM2-with-SM3 signature (GM/T 0009 default signer ID) over ``data``."""
        params = spki["algorithm"]["parameters"]
        _require(spki["algorithm"]["algorithm"].native == "ec"
                 and params.chosen.dotted == OID_SM2_CURVE,
                 f"{what}: not an SM2 key (GM/T 0015: id-ecPublicKey on the SM2 curve)")
        _require(self.confirm(spki, data, signature), f"{what}: signature refused")
        self.checked.append(what)

    def link(self, cert: x509.Certificate, issuer: x509.Certificate, at: datetime) -> None:
        """``openssl verify``'s own X.509 check of one link, at ``at``."""
        out = self._run(
            "openssl", "verify", "-partial_chain", "-vfyopt", f"distid:{SIGNER_ID}",
            "-attime", str(int(at.timestamp())),
            "-CAfile", str(self._file(pem.armor("CERTIFICATE", issuer.dump()), ".pem")),
            str(self._file(pem.armor("CERTIFICATE", cert.dump()), ".pem")))
        _require(out.returncode == 0, (out.stdout + out.stderr).decode(errors="replace"))

    def asn1parse(self, data: bytes) -> Node:
        """``openssl asn1parse``: DER decoded by OpenSSL, as a tree."""
        out = self._run("openssl", "asn1parse", "-inform", "DER",
                        "-in", str(self._file(data, ".der")))
        _require(out.returncode == 0, out.stderr.decode(errors="replace"))
        return parse_asn1parse(out.stdout.decode())

    def cms_digest(self, content_info_der: bytes, content: bytes | None) -> None:
        """``openssl cms -verify -nosigs``: parses the SignedData, checks the SM3 message digest."""
        args = ["openssl", "cms", "-verify", "-nosigs", "-noverify", "-binary", "-inform", "DER",
                "-in", str(self._file(content_info_der, ".p7")), "-out", "/dev/null"]
        if content is not None:
            args += ["-content", str(self._file(content, ".bin"))]
        out = self._run(*args)
        _require(out.returncode == 0, out.stderr.decode(errors="replace"))


# -- openssl asn1parse: the decoder of GB/T 38540 structures -------------------------------------


@dataclass
class Node:
    """One element as ``openssl asn1parse`` printed it, with its children."""

    offset: int
    depth: int
    header: int
    length: int
    kind: str  # the tag as openssl names it: SEQUENCE, BIT STRING, cont [ 0 ], ...
    value: str  # what openssl printed after the tag (a string, an OID's name, ...)
    children: list[Node]

    def der(self, data: bytes) -> bytes:
        return data[self.offset:self.offset + self.header + self.length]

    def content(self, data: bytes) -> bytes:
        return data[self.offset + self.header:self.offset + self.header + self.length]

    def bits(self, data: bytes) -> bytes:
        body = self.content(data)
        _require(self.kind == "BIT STRING" and body[:1] == b"\x00",
                 "expected a byte-aligned BIT STRING")
        return body[1:]


_ASN1PARSE_LINE = re.compile(
    r"^\s*(\d+):d=(\d+)\s+hl=(\d+)\s+l=\s*(\d+)\s+(?:prim|cons):\s*(.*?)\s*$")


def parse_asn1parse(output: str) -> Node:
    """The tree of ``openssl asn1parse`` output (its d= depths give the nesting)."""
    stack: list[Node] = []
    root: Node | None = None
    for line in output.splitlines():
        m = _ASN1PARSE_LINE.match(line)
        _require(m is not None, f"unexpected asn1parse line: {line}")
        assert m is not None
        offset, depth, header, length, rest = m.groups()
        kind, _, value = rest.partition(":")
        node = Node(int(offset), int(depth), int(header), int(length),
                    kind.replace("[HEX DUMP]", "").strip(), value, [])
        while stack and stack[-1].depth >= node.depth:
            stack.pop()
        if stack:
            stack[-1].children.append(node)
        else:
            root = node
        stack.append(node)
    _require(root is not None, "asn1parse printed nothing")
    assert root is not None
    return root


def _sig_alg_is_sm2(algorithm: algos.SignedDigestAlgorithm, what: str) -> None:
    _require(algorithm.dump() == SM2_SM3_ALGORITHM,
             f"{what}: signature algorithm is not SM2-with-SM3 without parameters")


def signed_attr(info: cms.SignerInfo, name: str):
    for attr in info["signed_attrs"]:
        if attr["type"].native == name:
            return attr["values"][0]
    raise CheckFailed(f"no {name} attribute")


def signed_bytes(pdf: bytes, sig_object) -> bytes:
    ranges = [int(x) for x in sig_object["/ByteRange"]]
    return b"".join(pdf[ranges[i]:ranges[i] + ranges[i + 1]] for i in range(0, len(ranges), 2))


class Sm2DocumentCheck:
    """Every SM2 signature of one PDF, checked by ``verifier`` (:class:`OpenSsl` or richer)."""

    def __init__(self, pdf: bytes, roots: list[x509.Certificate], verifier: OpenSsl):
        from pyhanko.pdf_utils.reader import PdfFileReader

        self.pdf = pdf
        self.roots = {r.dump() for r in roots}
        self.verifier = verifier
        self.reader = PdfFileReader(BytesIO(pdf), strict=False)
        self.certs: dict[bytes, x509.Certificate] = {r.dump(): r for r in roots}
        self._verified: set[bytes] = set()

    def _collect(self, signed_data: cms.SignedData) -> None:
        for choice in signed_data["certificates"] or ():
            self.certs.setdefault(choice.chosen.dump(), choice.chosen)

    def _signer(self, signed_data: cms.SignedData) -> x509.Certificate:
        sid = signed_data["signer_infos"][0]["sid"].chosen
        for cert in self.certs.values():
            if cert.issuer == sid["issuer"] and cert.serial_number == sid["serial_number"].native:
                return cert
        raise CheckFailed("signer certificate not found")

    def _issuer(self, cert: x509.Certificate) -> x509.Certificate:
        for cand in self.certs.values():
            if cand.subject == cert.issuer and cand.key_identifier == (
                    cert.authority_key_identifier):
                return cand
        raise CheckFailed(f"no issuer for {cert.subject.human_friendly}")

    def chain(self, cert: x509.Certificate, at: datetime, what: str) -> None:
        """Each link's SM2 signature, ``openssl verify`` per link, up to a trusted root."""
        current = cert
        while True:
            if current.dump() in self.roots and current.issuer != current.subject:
                return  # trusted directly (e.g. an external TSA's certificate, as trust lists do)
            issuer = self._issuer(current)
            _sig_alg_is_sm2(current["signature_algorithm"], f"{what}: certificate")
            if current.dump() not in self._verified:
                name = current.subject.native.get("common_name")
                self.verifier.verify(issuer.public_key, current["tbs_certificate"].dump(),
                                     current["signature_value"].native, f"certificate {name}")
                if issuer.dump() != current.dump():
                    self.verifier.link(current, issuer, at)
                self._verified.add(current.dump())
            if issuer.dump() == current.dump():
                _require(current.dump() in self.roots, f"{what}: ends at an untrusted root")
                return
            current = issuer

    def signer_info(self, signed_data: cms.SignedData, content_digest: bytes,
                    what: str) -> x509.Certificate:
        """SM3 digest algorithm, the message digest, ESS, the SM2 signature of the attributes."""
        self._collect(signed_data)
        info = signed_data["signer_infos"][0]
        _require(info["digest_algorithm"]["algorithm"].dotted == OID_SM3, f"{what}: not SM3")
        _sig_alg_is_sm2(info["signature_algorithm"], what)
        _require(signed_attr(info, "message_digest").native == content_digest,
                 f"{what}: the signed content does not match its message digest")
        signer = self._signer(signed_data)
        ess = signed_attr(info, "signing_certificate_v2")["certs"][0]
        _require(ess["hash_algorithm"]["algorithm"].dotted == OID_SM3
                 and ess["cert_hash"].native == self.verifier.sm3(signer.dump()),
                 f"{what}: the signing-certificate attribute names another certificate")
        attrs = b"\x31" + info["signed_attrs"].dump()[1:]  # signed as a SET OF
        self.verifier.verify(signer.public_key, attrs, info["signature"].native, what)
        return signer

    def token(self, token: cms.SignedData, imprint_of: bytes, what: str) -> datetime:
        """An RFC 3161 token: SM3 imprint, its SignerInfo, the TSA's chain at its time."""
        self._collect(token)
        tst = token["encap_content_info"]["content"].parsed
        _require(isinstance(tst, tsp.TSTInfo), f"{what}: not a timestamp token")
        imprint = tst["message_imprint"]
        _require(imprint["hash_algorithm"]["algorithm"].dotted == OID_SM3
                 and imprint["hashed_message"].native == self.verifier.sm3(imprint_of),
                 f"{what}: the timestamp covers something else")
        econtent = token["encap_content_info"]["content"].contents
        tsa = self.signer_info(token, self.verifier.sm3(econtent), what)
        self.verifier.cms_digest(
            cms.ContentInfo({"content_type": "signed_data", "content": token}).dump(), None)
        usages = tsa.extended_key_usage_value
        _require(usages is not None and "time_stamping" in usages.native,
                 f"{what}: not a time-stamping certificate")
        at = tst["gen_time"].native
        self.chain(tsa, at, what)
        return at

    def signature(self, sig) -> None:
        name = sig.field_name
        signed = signed_bytes(self.pdf, sig.sig_object)
        contents = sig.sig_object["/Contents"].original_bytes
        signed_data = cms.ContentInfo.load(contents)["content"]
        if sig.sig_object.get("/Type") == "/DocTimeStamp":
            self.token(signed_data, signed, f"{name} (document timestamp)")
            return
        signer = self.signer_info(signed_data, self.verifier.sm3(signed), name)
        self.verifier.cms_digest(cms.ContentInfo.load(contents).dump(), signed)
        info = signed_data["signer_infos"][0]
        tokens = [a["values"][0]["content"] for a in info["unsigned_attrs"] or ()
                  if a["type"].native == "signature_time_stamp_token"]
        _require(len(tokens) == 1, f"{name}: no signature timestamp")
        at = self.token(tokens[0], info["signature"].native, f"{name} (signature timestamp)")
        self.chain(signer, at, name)

    def ses_seal(self, name: str, sig_object) -> None:
        """A GB/T 38540 seal (``/SubFilter /GB.T38540.SES``): the SES_Signature decoded by
        ``openssl asn1parse``; its dataHash is the SM3 of the byte range; the signer's SM2
        signature over TBS_Sign and the seal maker's over eSealInfo (the DER as openssl
        delimits it); the signer is a holder the seal lists; the timestamp covers the
        signature value; both certificates chain to a root at the time it proves."""
        der = ses_der(sig_object["/Contents"].original_bytes)
        top = self.verifier.asn1parse(der)
        _require([c.kind for c in top.children] == [
            "SEQUENCE", "OCTET STRING", "OBJECT", "BIT STRING", "cont [ 0 ]"],
            f"{name}: not an SES_Signature with a timestamp")
        tbs, cert, alg, signature, stamp = top.children
        _require(alg.value == "SM2-with-SM3", f"{name}: signed with {alg.value}")
        version, eseal, _time, data_hash, _property = tbs.children[:5]
        _require(version.value == "04", f"{name}: not a GB/T 38540 (version 4) signature")
        _require(data_hash.bits(der) == self.verifier.sm3(signed_bytes(self.pdf, sig_object)),
                 f"{name}: the document does not match the signed dataHash")
        signer = x509.Certificate.load(cert.content(der))
        self.verifier.verify(signer.public_key, tbs.der(der), signature.bits(der), name)
        seal_info, maker_cert, seal_alg, signed_value = eseal.children
        _require(seal_alg.value == "SM2-with-SM3", f"{name}: seal signed with {seal_alg.value}")
        maker = x509.Certificate.load(maker_cert.content(der))
        self.verifier.verify(maker.public_key, seal_info.der(der), signed_value.bits(der),
                             f"{name} (SES_Seal, its maker)")
        header, _es_id, prop = seal_info.children[:3]
        _require([c.value for c in header.children[:2]] == ["ES", "04"],
                 f"{name}: not a GB/T 38540 seal")
        _require(prop.children[2].value == "01" and signer.dump() in [
            c.content(der) for c in prop.children[3].children],
            f"{name}: the signer is not one of the seal's holders")
        [token] = stamp.children
        at = self.token(cms.ContentInfo.load(token.bits(der))["content"], signature.bits(der),
                        f"{name} (signature timestamp)")
        self.chain(signer, at, name)
        self.chain(maker, at, f"{name} (seal maker)")

    def dss(self) -> None:
        from pyhanko.sign.validation import DocumentSecurityStore

        dss = DocumentSecurityStore.read_dss(self.reader)
        for cert in dss.load_certs():
            self.certs.setdefault(cert.dump(), cert)
        _require(dss.ocsps, "no OCSP responses in the DSS")
        for ref in dss.ocsps:
            basic = ocsp.OCSPResponse.load(ref.get_object().data)["response_bytes"][
                "response"].parsed
            responder = basic["certs"][0]
            self.certs.setdefault(responder.dump(), responder)
            _sig_alg_is_sm2(basic["signature_algorithm"], "OCSP response")
            self.verifier.verify(responder.public_key, basic["tbs_response_data"].dump(),
                                 basic["signature"].native, "OCSP response")
            self.chain(responder, basic["tbs_response_data"]["produced_at"].native,
                       "OCSP responder")
            for single in basic["tbs_response_data"]["responses"]:
                _require(single["cert_status"].name == "good", "an OCSP response is not good")
        for ref in dss.crls:
            item = crl.CertificateList.load(ref.get_object().data)
            issuer = next((c for c in self.certs.values()
                           if c.subject == item["tbs_cert_list"]["issuer"]), None)
            _require(issuer is not None, "a CRL of an unknown issuer")
            _sig_alg_is_sm2(item["signature_algorithm"], "CRL")
            self.verifier.verify(issuer.public_key, item["tbs_cert_list"].dump(),
                                 item["signature"].native, "CRL")

    def run(self) -> list[str]:
        """Check everything (CheckFailed on the first failure); what was verified."""
        signatures = self.reader.embedded_signatures
        _require(signatures, "the document has no signature")
        if self.verifier.show_commands:
            print("DSS (OCSP responses, CRLs):")
        self.dss()
        for sig in signatures:
            if self.verifier.show_commands:
                print(f"{sig.field_name}:")
            self.signature(sig)
        for name, sig_object in ses_fields(self.reader):  # pyHanko skips these
            if self.verifier.show_commands:
                print(f"{name} (GB/T 38540):")
            self.ses_seal(name, sig_object)
        return self.verifier.checked


#: the SubFilter of the platform's GB/T 38540 seal (pyHanko does not list such signatures)
SES_SUBFILTER = "/GB.T38540.SES"


def ses_fields(reader) -> list[tuple[str, object]]:
    """(field name, signature dictionary) of every GB/T 38540 seal in the document."""
    from pyhanko.sign.fields import enumerate_sig_fields

    return [(name, sig_obj.get_object())
            for name, sig_obj, _ in enumerate_sig_fields(reader, filled_status=True)
            if sig_obj.get_object().get("/SubFilter") == SES_SUBFILTER]


def ses_der(contents: bytes) -> bytes:
    """The SES_Signature at the start of /Contents, by its own DER length (the signer's
    zero padding follows it)."""
    _require(contents[:1] == b"\x30" and len(contents) > 2 and contents[1] & 0x80,
             "the seal's /Contents is not a DER SEQUENCE")
    n = contents[1] & 0x7F
    end = 2 + n + int.from_bytes(contents[2:2 + n], "big")
    _require(end <= len(contents) and not contents[end:].strip(b"\x00"),
             "the seal's /Contents has data after its SES_Signature")
    return contents[:end]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("pdf", type=Path)
    parser.add_argument("--roots", type=Path, required=True, help="roots.pem (trust-config)")
    parser.add_argument("--show-commands", action="store_true",
                        help="print every openssl command as it runs")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="keep the files the commands ran on in DIR (to re-run them)")
    args = parser.parse_args(argv)
    roots = [x509.Certificate.load(der)
             for _, _, der in pem.unarmor(args.roots.read_bytes(), multiple=True)]
    with tempfile.TemporaryDirectory(prefix="sm2-check-") as tmp:
        workdir = Path(tmp)
        if args.keep is not None:
            workdir = args.keep
            workdir.mkdir(parents=True, exist_ok=True)
        verifier = OpenSsl(workdir, show_commands=args.show_commands)
        try:
            checked = Sm2DocumentCheck(args.pdf.read_bytes(), roots, verifier).run()
        except CheckFailed as e:
            print(f"FAILED: {e}")
            return 1
    for what in checked:
        print(f"OK  {what}")
    print(f"all {len(checked)} SM2 signatures verified by openssl")
    return 0


if __name__ == "__main__":
    sys.exit(main())
