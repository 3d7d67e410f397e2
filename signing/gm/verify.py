"""Checking SM2 signatures, certificate paths and status data ourselves: pyHanko cannot.

pyHanko and pyhanko-certvalidator know no SM2: they fail every signature of an
SM2-suite document with an unsupported-algorithm error. So for those
signatures :mod:`signing.validation` asks this module for the cryptographic
half of validation, done with :mod:`signing.gm.sm2` (the system OpenSSL 3's
libcrypto):

* the CMS signature: SM3 of the signed byte ranges against the message-digest
  attribute, the ESS signing-certificate attribute, the SM2 signature over
  the DER of the signed attributes;
* the signature timestamp (RFC 3161): its imprint is the SM3 of the signature
  value, its own CMS signature checks out, its signer is a time-stamping unit;
* each certificate path, to one of the trust roots given, every certificate's
  SM2-with-SM3 signature checked by its issuer's key;
* revocation: OCSP responses (signed by the CA or a responder it delegated
  to) and CRLs, found in the document's DSS or supplied by the caller, each
  signature checked.

The PDF half (which bytes a signature covers, what changed after it, whether
the certification allows that) stays pyHanko's: it involves no cryptography.

The validation model is a simplified ETSI EN 319 102-1 past validation, enough
for the documents this platform makes and said here so nobody reads more into
it: a signature's path is checked at the time its own signature timestamp
proves it existed; status data counts when its signature checks out and it
was produced while the certificate was valid (a "good"), or it says the
certificate was revoked before that time; a timestamp's path is checked at
its own time, and one that nothing later covers (the newest archive
timestamp, or a signature timestamp before filing) must also still be valid
at the validation time. ECDSA and RSA signatures met on the way (an external
TSA's, say) are checked with ``cryptography``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from asn1crypto import algos, cms, crl, keys, ocsp, tsp, x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from signing.gm import oids as gm_oids
from signing.gm.sm2 import Sm2Error, Sm2PublicKey, library_version
from signing.pki.digests import DIGEST_SIZES, digest

__all__ = [
    "CmsCheck",
    "Material",
    "PathCheck",
    "checked_by",
    "is_sm2_signed",
    "verify_signature",
]

_MAX_PATH = 8


@cache
def checked_by() -> str:
    """Who checks SM2 here, for reports: the library, and that pyHanko cannot."""
    return (f"SM2/SM3 signatures, certificate paths, OCSP and CRL signatures verified by "
            f"{library_version()} libcrypto (signing.gm.sm2); PDF byte ranges and "
            "changes after signing checked by pyHanko, which does not support SM2")


def is_sm2_signed(signed_data: cms.SignedData) -> bool:
    """True when the (first) signer signs with SM2-with-SM3 (GM/T 0010)."""
    infos = signed_data["signer_infos"]
    return bool(len(infos)) and infos[0]["signature_algorithm"]["algorithm"].dotted == (
        gm_oids.SM2_WITH_SM3)


# -- raw signatures ------------------------------------------------------------------------------

_sm2_keys: dict[bytes, Sm2PublicKey] = {}
_PYCA_HASHES = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}


def _sm2_key(public_key: keys.PublicKeyInfo) -> Sm2PublicKey:
    der = public_key.dump()
    key = _sm2_keys.get(der)
    if key is None:
        if len(_sm2_keys) > 256:  # a validator process sees many one-signature keys
            _sm2_keys.clear()
        key = _sm2_keys[der] = Sm2PublicKey.from_der(der)
    return key


def verify_signature(
    public_key: keys.PublicKeyInfo,
    algorithm: algos.SignedDigestAlgorithm,
    signature: bytes,
    data: bytes,
) -> bool:
    """Is ``signature`` the key's signature of ``data`` under ``algorithm``?

    SM2-with-SM3 (GM/T 0009's default signer ID) by OpenSSL through
    :mod:`signing.gm.sm2`; ECDSA and RSA PKCS#1 v1.5 with SHA-2 by
    ``cryptography``; anything else is not a valid signature.
    """
    name = algorithm["algorithm"].native
    try:
        if algorithm["algorithm"].dotted == gm_oids.SM2_WITH_SM3:
            if public_key.algorithm != "ec" or public_key.curve[1] != "sm2p256v1":
                return False
            return _sm2_key(public_key).verify(signature, data)
        hash_name = algorithm.hash_algo
        if hash_name not in _PYCA_HASHES:
            return False
        hash_algo = _PYCA_HASHES[hash_name]()
        key = serialization.load_der_public_key(public_key.dump())
        if name.endswith("_ecdsa") and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(hash_algo))
            return True
        if name.endswith("_rsa") and isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), hash_algo)
            return True
        return False
    except (InvalidSignature, UnsupportedAlgorithm, Sm2Error, ValueError, TypeError):
        return False


# -- results -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PathCheck:
    """A certificate's path to a trust root at one moment, and its revocation status."""

    trusted: bool
    revocation: str  # good | revoked | unknown
    indication: str  # PASSED/OK or why not (ETSI EN 319 102-1 vocabulary)
    message: str | None = None

    @property
    def ok(self) -> bool:
        return self.trusted and self.revocation == "good"


@dataclass(frozen=True)
class CmsCheck:
    """One CMS signature (a PDF signature or a timestamp token), fully checked."""

    intact: bool  # the signed content is unchanged (message digest / imprint)
    valid: bool  # the signature over the signed attributes checks out
    signer: x509.Certificate | None
    path: PathCheck
    time: datetime | None  # the time the path was checked at
    timestamp_time: datetime | None = None  # a signature timestamp's (or a token's own) time
    timestamp: CmsCheck | None = None  # the signature timestamp's own check

    @property
    def ok(self) -> bool:
        ts_ok = self.timestamp is None or self.timestamp.ok
        return self.intact and self.valid and self.path.ok and ts_ok

    def _failure(self) -> tuple[str, str | None]:
        """(indication, message): the first thing that failed, or PASSED/OK."""
        if not self.intact:
            return "FAILED/HASH_FAILURE", "the signed content does not match its digest"
        if not self.valid:
            return ("FAILED/SIG_CRYPTO_FAILURE",
                    "the signature does not verify with the signer's certificate")
        if not self.path.ok:
            return self.path.indication, self.path.message
        if self.timestamp is not None and not self.timestamp.ok:
            return self.timestamp.indication, f"signature timestamp: {self.timestamp.message}"
        return "PASSED/OK", None

    @property
    def indication(self) -> str:
        return self._failure()[0]

    @property
    def message(self) -> str | None:
        return self._failure()[1]


# -- the material: certificates, OCSP, CRLs ---------------------------------------------------


def _attr(signer_info: cms.SignerInfo, name: str) -> object | None:
    for attr in signer_info["signed_attrs"] or ():
        if attr["type"].native == name:
            return attr["values"][0]
    return None


def _ekus(cert: x509.Certificate) -> set[str]:
    usages = cert.extended_key_usage_value
    return set(usages.native) if usages is not None else set()


def _cert_id_hash(algorithm: str, data: bytes) -> bytes:
    """An OCSP CertID hash: SHA-1 usually, SM3 from SM2 clients (ValueError: unknown)."""
    if algorithm in DIGEST_SIZES:
        return digest(algorithm, data)
    return hashlib.new(algorithm, data).digest()


def _within(cert: x509.Certificate, at: datetime) -> bool:
    return cert.not_valid_before <= at <= cert.not_valid_after


def _name(cert: x509.Certificate) -> str:
    native = cert.subject.native
    return str(native.get("common_name") or native.get("organization_name") or "?")


class Material:
    """Everything a document (and the caller) brings for validation, with the trust roots.

    Each certificate signature and each OCSP response or CRL is checked once
    and the answer kept: the same chains recur in every signature.
    """

    def __init__(
        self,
        roots: Sequence[x509.Certificate],
        certs: Iterable[x509.Certificate] = (),
        ocsps: Iterable[ocsp.OCSPResponse] = (),
        crls: Iterable[crl.CertificateList] = (),
    ):
        self._roots = {r.dump(): r for r in roots}
        self._by_subject: dict[bytes, list[x509.Certificate]] = {}
        self._seen: set[bytes] = set()
        for cert in (*roots, *certs):
            self.add_cert(cert)
        self._basic: list[ocsp.BasicOCSPResponse] = []
        for response in ocsps:
            self.add_ocsp(response)
        self._crls = list(crls)
        self._signed: dict[tuple[bytes, bytes], bool] = {}
        self._ocsp_ok: dict[tuple[int, bytes], bool] = {}
        self._crl_ok: dict[tuple[int, bytes], bool] = {}

    @classmethod
    def from_der(
        cls, roots: Sequence[x509.Certificate], revocation_data: Iterable[bytes]
    ) -> Material:
        """With caller-supplied DER OCSP responses and CRLs, told apart by structure."""
        ocsps, crls = [], []
        for item in revocation_data:
            try:
                response = ocsp.OCSPResponse.load(item)
                if response["response_status"].native == "successful":
                    ocsps.append(response)
                    continue
            except ValueError:
                pass
            crls.append(crl.CertificateList.load(item))
        return cls(roots, ocsps=ocsps, crls=crls)

    def add_cert(self, cert: x509.Certificate) -> None:
        der = cert.dump()
        if der not in self._seen:
            self._seen.add(der)
            self._by_subject.setdefault(cert.subject.dump(), []).append(cert)

    def add_signed_data(self, signed_data: cms.SignedData) -> None:
        for choice in signed_data["certificates"] or ():
            if choice.name == "certificate":
                self.add_cert(choice.chosen)

    def add_ocsp(self, response: ocsp.OCSPResponse) -> None:
        if response["response_status"].native != "successful":
            return
        basic = response["response_bytes"]["response"].parsed
        self._basic.append(basic)
        for cert in basic["certs"] or ():
            self.add_cert(cert)

    def add_crl(self, item: crl.CertificateList) -> None:
        self._crls.append(item)

    # -- certificate signatures and paths -------------------------------------------------------

    def signed_by(self, cert: x509.Certificate, issuer: x509.Certificate) -> bool:
        key = (cert.dump(), issuer.dump())
        ok = self._signed.get(key)
        if ok is None:
            ok = self._signed[key] = cert.issuer == issuer.subject and verify_signature(
                issuer.public_key,
                cert["signature_algorithm"],
                cert["signature_value"].native,
                cert["tbs_certificate"].dump(),
            )
        return ok

    def issuer_of(self, cert: x509.Certificate) -> x509.Certificate | None:
        aki = cert.authority_key_identifier
        for candidate in self._by_subject.get(cert.issuer.dump(), ()):
            if aki is not None and candidate.key_identifier not in (None, aki):
                continue
            if candidate.dump() != cert.dump() and self.signed_by(cert, candidate):
                return candidate
        return None

    def path(self, cert: x509.Certificate) -> list[x509.Certificate] | str:
        """``[cert, issuer, ..., root]`` ending in a trust root, or why there is none."""
        path = [cert]
        while path[-1].dump() not in self._roots:
            if len(path) > _MAX_PATH:
                return "certificate path too long"
            issuer = self.issuer_of(path[-1])
            if issuer is None:
                return f"no trusted issuer found for {_name(path[-1])}"
            constraints = issuer.basic_constraints_value
            if constraints is None or not constraints["ca"].native:
                return f"{_name(issuer)} is not a CA"
            usage = issuer.key_usage_value
            if usage is not None and "key_cert_sign" not in usage.native:
                return f"{_name(issuer)} may not sign certificates"
            limit = constraints["path_len_constraint"].native
            if limit is not None and len(path) - 1 > limit:
                return f"{_name(issuer)}: path length constraint exceeded"
            path.append(issuer)
        return path

    # -- status ------------------------------------------------------------------------------

    def _responder_ok(self, basic: ocsp.BasicOCSPResponse, issuer: x509.Certificate) -> bool:
        """The response is signed by ``issuer`` or by a responder ``issuer`` delegated to."""
        key = (id(basic), issuer.dump())
        ok = self._ocsp_ok.get(key)
        if ok is not None:
            return ok
        tbs = basic["tbs_response_data"]
        produced = tbs["produced_at"].native
        responder_id = tbs["responder_id"]
        candidates = [*(basic["certs"] or ()), issuer]
        ok = False
        for responder in candidates:
            if responder_id.name == "by_key":
                wanted = responder_id.chosen.native
                if hashlib.sha1(bytes(responder.public_key["public_key"])).digest() != wanted:
                    continue
            elif responder.subject != responder_id.chosen:
                continue
            delegated = responder.dump() != issuer.dump()
            if delegated and not (
                self.signed_by(responder, issuer)
                and "ocsp_signing" in _ekus(responder)
                and _within(responder, produced)
            ):
                continue
            if verify_signature(
                responder.public_key,
                basic["signature_algorithm"],
                basic["signature"].native,
                tbs.dump(),
            ):
                ok = True
                break
        self._ocsp_ok[key] = ok
        return ok

    def _crl_signed(self, item: crl.CertificateList, issuer: x509.Certificate) -> bool:
        key = (id(item), issuer.dump())
        ok = self._crl_ok.get(key)
        if ok is None:
            tbs = item["tbs_cert_list"]
            ok = self._crl_ok[key] = tbs["issuer"] == issuer.subject and verify_signature(
                issuer.public_key, item["signature_algorithm"], item["signature"].native,
                tbs.dump())
        return ok

    def status(self, cert: x509.Certificate, issuer: x509.Certificate, at: datetime) -> str:
        """good | revoked | unknown, from signed OCSP responses and CRLs about ``cert``."""
        if cert.ocsp_no_check_value is not None:
            return "good"  # a delegated responder (RFC 6960 §4.2.2.2.1)
        good = False
        serial = cert.serial_number
        for basic in self._basic:
            for single in basic["tbs_response_data"]["responses"]:
                cert_id = single["cert_id"]
                if cert_id["serial_number"].native != serial:
                    continue
                algorithm = cert_id["hash_algorithm"]["algorithm"].native
                try:
                    name_hash = _cert_id_hash(algorithm, issuer.subject.dump())
                    key_hash = _cert_id_hash(algorithm, bytes(issuer.public_key["public_key"]))
                except ValueError:
                    continue
                if (cert_id["issuer_name_hash"].native, cert_id["issuer_key_hash"].native) != (
                        name_hash, key_hash) or not self._responder_ok(basic, issuer):
                    continue
                state = single["cert_status"]
                if state.name == "revoked" and state.chosen["revocation_time"].native <= at:
                    return "revoked"
                # revoked only after ``at``: it was good then (past validation)
                if state.name in ("good", "revoked") and _within(
                        cert, single["this_update"].native):
                    good = True
        for item in self._crls:
            tbs = item["tbs_cert_list"]
            if tbs["issuer"] != issuer.subject or not self._crl_signed(item, issuer):
                continue
            listed = [entry for entry in tbs["revoked_certificates"] or ()
                      if entry["user_certificate"].native == serial]
            if any(entry["revocation_date"].native <= at for entry in listed):
                return "revoked"
            if _within(cert, tbs["this_update"].native):
                good = True  # not listed, or revoked only after ``at``
        return "good" if good else "unknown"

    def check_path(
        self, cert: x509.Certificate | None, at: datetime, *, purpose: str | None = None
    ) -> PathCheck:
        """The path of ``cert`` to a trust root, valid at ``at``, nothing revoked by then.

        ``purpose``: an extended key usage the certificate must carry
        (``time_stamping`` for a TSA).
        """
        if cert is None:
            return PathCheck(False, "unknown", "INDETERMINATE/NO_SIGNING_CERTIFICATE_FOUND",
                             "the signer's certificate is not in the signature")
        path = self.path(cert)
        if isinstance(path, str):
            return PathCheck(False, "unknown", "INDETERMINATE/NO_CERTIFICATE_CHAIN_FOUND", path)
        if purpose is not None:
            if purpose not in _ekus(cert):
                return PathCheck(False, "unknown", "INDETERMINATE/CHAIN_CONSTRAINTS_FAILURE",
                                 f"{_name(cert)} is not a {purpose} certificate")
        for item in path:
            if not _within(item, at):
                return PathCheck(False, "unknown", "INDETERMINATE/OUT_OF_BOUNDS_NO_POE",
                                 f"{_name(item)} was not valid at {at.isoformat()}")
        states = [self.status(c, issuer, at) for c, issuer in zip(path, path[1:], strict=False)]
        if "revoked" in states:
            return PathCheck(True, "revoked", "FAILED/REVOKED",
                             f"{_name(path[states.index('revoked')])} was revoked")
        if "unknown" in states:
            return PathCheck(True, "unknown", "INDETERMINATE/TRY_LATER",
                             f"no status data for {_name(path[states.index('unknown')])}")
        return PathCheck(True, "good", "PASSED/OK")

    # -- CMS ---------------------------------------------------------------------------------

    def signer_cert(self, signed_data: cms.SignedData) -> x509.Certificate | None:
        sid = signed_data["signer_infos"][0]["sid"]
        for choice in signed_data["certificates"] or ():
            cert = choice.chosen
            if choice.name != "certificate":
                continue
            if sid.name == "issuer_and_serial_number":
                if (cert.issuer == sid.chosen["issuer"]
                        and cert.serial_number == sid.chosen["serial_number"].native):
                    return cert
            elif cert.key_identifier == sid.chosen.native:
                return cert
        if sid.name == "issuer_and_serial_number":  # a token without certReq: look further
            for group in self._by_subject.values():
                for cert in group:
                    if (cert.issuer == sid.chosen["issuer"]
                            and cert.serial_number == sid.chosen["serial_number"].native):
                        return cert
        return None

    def _signer_info_ok(
        self, signed_data: cms.SignedData, content_digest: bytes
    ) -> tuple[bool, bool, x509.Certificate | None]:
        """(intact, valid, signer) of a CMS whose content hashes to ``content_digest``."""
        info = signed_data["signer_infos"][0]
        signer = self.signer_cert(signed_data)
        message_digest = _attr(info, "message_digest")
        intact = message_digest is not None and message_digest.native == content_digest
        content_type = _attr(info, "content_type")
        if content_type is None or content_type.native != (
                signed_data["encap_content_info"]["content_type"].native):
            return intact, False, signer
        if signer is None:
            return intact, False, None
        ess = _attr(info, "signing_certificate_v2")
        if ess is not None:
            cert_id = ess["certs"][0]
            algorithm = cert_id["hash_algorithm"]["algorithm"].native
            if algorithm not in DIGEST_SIZES or digest(algorithm, signer.dump()) != (
                    cert_id["cert_hash"].native):
                return intact, False, signer
        attrs = info["signed_attrs"].dump()
        valid = verify_signature(signer.public_key, info["signature_algorithm"],
                                 info["signature"].native, b"\x31" + attrs[1:])
        return intact, valid, signer

    def check_token(
        self,
        signed_data: cms.SignedData,
        imprint_data: bytes | None,
        *,
        current_at: datetime | None,
        imprint_digest: bytes | None = None,
    ) -> CmsCheck:
        """An RFC 3161 timestamp token (its SignedData) over ``imprint_data`` (or whose
        imprint is ``imprint_digest``, for a caller that has only the digest).

        The TSA's path is checked at the token's own time and, when
        ``current_at`` is given (nothing later covers this token), then too.
        """
        self.add_signed_data(signed_data)
        tst_info = signed_data["encap_content_info"]["content"].parsed
        if not isinstance(tst_info, tsp.TSTInfo):
            raise ValueError("not a timestamp token")
        imprint = tst_info["message_imprint"]
        algorithm = imprint["hash_algorithm"]["algorithm"].native
        if imprint_data is not None and algorithm in DIGEST_SIZES:
            imprint_digest = digest(algorithm, imprint_data)
        intact = imprint_digest is not None and imprint_digest == imprint["hashed_message"].native
        info_digest = signed_data["signer_infos"][0]["digest_algorithm"]["algorithm"].native
        if info_digest not in DIGEST_SIZES:
            raise ValueError(f"unsupported digest {info_digest}")
        econtent = signed_data["encap_content_info"]["content"].contents
        token_intact, valid, signer = self._signer_info_ok(
            signed_data, digest(info_digest, econtent))
        gen_time = tst_info["gen_time"].native
        path = self.check_path(signer, gen_time, purpose="time_stamping")
        if path.ok and current_at is not None and signer is not None:
            now_path = self.check_path(signer, current_at, purpose="time_stamping")
            if not now_path.ok:
                path = PathCheck(now_path.trusted, now_path.revocation, now_path.indication,
                                 f"nothing later covers this timestamp: {now_path.message}")
        return CmsCheck(intact and token_intact, valid, signer, path, gen_time,
                        timestamp_time=gen_time)

    def check_signature(
        self,
        signed_data: cms.SignedData,
        signed_bytes: bytes,
        *,
        validation_time: datetime,
        archived: bool,
    ) -> CmsCheck:
        """A PDF signature (CMS, detached) over ``signed_bytes`` (its byte ranges).

        Its path is checked at the time its signature timestamp proves; with
        no timestamp, at ``validation_time``. ``archived``: a document
        timestamp covers it, so its own timestamp need not be current.
        """
        self.add_signed_data(signed_data)
        info = signed_data["signer_infos"][0]
        algorithm = info["digest_algorithm"]["algorithm"].native
        if algorithm not in DIGEST_SIZES:
            raise ValueError(f"unsupported digest {algorithm}")
        intact, valid, signer = self._signer_info_ok(signed_data, digest(algorithm, signed_bytes))
        ts_check = None
        for attr in info["unsigned_attrs"] or ():
            if attr["type"].native == "signature_time_stamp_token":
                ts_check = self.check_token(
                    attr["values"][0]["content"], info["signature"].native,
                    current_at=None if archived else validation_time)
                break
        at = validation_time
        if ts_check is not None and ts_check.ok and ts_check.time is not None:
            at = ts_check.time
        path = self.check_path(signer, at)
        return CmsCheck(intact, valid, signer, path, at,
                        timestamp_time=ts_check.time if ts_check is not None else None,
                        timestamp=ts_check)
