"""The PKI configuration (``certs/pki.toml``) as typed, frozen data.

Only descriptive settings live in the file: subject names, lifetimes, key
types. Secrets (the key passphrase, PINs) and the public URL are passed in at
run time, since they differ per deployment.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asn1crypto import x509

from signing.keys import KeySpec
from signing.suites import ECDSA_P256, SigningSuite, get_suite

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "CertProfile",
    "PkiConfig",
    "ResponderProfile",
    "SignerProfile",
    "load_config",
]

DEFAULT_CONFIG_PATH = Path(__file__).resolve().parents[2] / "certs" / "pki.toml"


@dataclass(frozen=True)
class CertProfile:
    """One long-lived certificate of the platform (a CA, the seal, the TSA)."""

    key: KeySpec
    lifetime_days: int
    subject: tuple[tuple[str, str], ...]

    def subject_name(self) -> x509.Name:
        return x509.Name.build(dict(self.subject))


@dataclass(frozen=True)
class SignerProfile:
    """The parties' one-signature certificates."""

    key: KeySpec
    lifetime_minutes: int
    backdate_seconds: int
    masked_id_attribute: str
    subject: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class ResponderProfile:
    """The delegated OCSP responder certificates, one per CA."""

    key: KeySpec
    lifetime_days: int
    renew_days: int
    subject: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class PkiConfig:
    digest_algorithm: str
    kdf_rounds: int
    root: CertProfile
    issuing: CertProfile
    seal: CertProfile
    platform: CertProfile
    tsa: CertProfile
    tsa_policy_oid: str
    tsa_renew_days: int
    signer: SignerProfile
    crl_validity_hours: int
    ocsp_validity_hours: int
    responder: ResponderProfile
    suite: SigningSuite = ECDSA_P256

    def for_suite(self, suite: SigningSuite | str) -> PkiConfig:
        """This configuration under ``suite``: with SM2 every key is SM2 and every
        digest SM3, whatever the file says (subjects and lifetimes stay)."""
        suite = get_suite(suite)
        if suite.key is None:
            profiles = (self.root, self.issuing, self.seal, self.platform, self.tsa,
                        self.signer, self.responder)
            if any(p.key.algorithm == "sm2" for p in profiles):
                raise ValueError("sm2 keys are chosen by SIGNING_SUITE=sm2, not per key")
            return dataclasses.replace(self, suite=suite)
        key = suite.key

        def rekey(profile: Any) -> Any:
            return dataclasses.replace(profile, key=key)

        return dataclasses.replace(
            self,
            suite=suite,
            digest_algorithm=suite.digest,
            root=rekey(self.root),
            issuing=rekey(self.issuing),
            seal=rekey(self.seal),
            platform=rekey(self.platform),
            tsa=rekey(self.tsa),
            signer=rekey(self.signer),
            responder=rekey(self.responder),
        )

    def profile(self, role: str) -> CertProfile:
        return {
            "root": self.root,
            "issuing": self.issuing,
            "seal": self.seal,
            "platform": self.platform,
            "tsa": self.tsa,
        }[role]


def _subject(table: dict[str, Any], where: str) -> tuple[tuple[str, str], ...]:
    subject = table.get("subject") or {}
    if not isinstance(subject, dict) or not all(isinstance(v, str) for v in subject.values()):
        raise ValueError(f"[{where}] subject must be a table of strings")
    # Name.build raises on unknown attribute names: fail at load, not at first issue
    x509.Name.build(dict(subject))
    return tuple(subject.items())


def _cert_profile(data: dict[str, Any], role: str) -> CertProfile:
    table = data[role]
    return CertProfile(
        key=KeySpec.parse(table["key"]),
        lifetime_days=int(table["lifetime_days"]),
        subject=_subject(table, role),
    )


def _tsa_renew_days(table: dict[str, Any]) -> int:
    renew = int(table.get("renew_days", 365))
    if not 0 < renew < int(table["lifetime_days"]):
        raise ValueError("[tsa] renew_days must be between 0 and lifetime_days")
    return renew


def load_config(path: Path | None = None, suite: SigningSuite | str = ECDSA_P256) -> PkiConfig:
    """Read and check a PKI configuration file (default: ``certs/pki.toml``), under
    the signing suite ``suite`` (:meth:`PkiConfig.for_suite`)."""
    path = path or DEFAULT_CONFIG_PATH
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    signer = data["signer"]
    masked_attr = signer.get("masked_id_attribute", "organizational_unit_name")
    if masked_attr in ("serial_number", "common_name"):
        raise ValueError("[signer] masked_id_attribute must not be serial_number or common_name")
    x509.Name.build({masked_attr: "x"})
    ocsp = data.get("ocsp", {})
    digest = data.get("digest_algorithm", "sha256")
    if digest not in ("sha256", "sha384", "sha512"):
        raise ValueError(f"unsupported digest_algorithm {digest!r}")
    return PkiConfig(
        digest_algorithm=digest,
        kdf_rounds=int(data.get("keys", {}).get("kdf_rounds", 600_000)),
        root=_cert_profile(data, "root"),
        issuing=_cert_profile(data, "issuing"),
        seal=_cert_profile(data, "seal"),
        platform=_cert_profile(data, "platform"),
        tsa=_cert_profile(data, "tsa"),
        tsa_policy_oid=data["tsa"].get("policy_oid", "1.3.6.1.4.1.55555.1.1"),
        tsa_renew_days=_tsa_renew_days(data["tsa"]),
        signer=SignerProfile(
            key=KeySpec.parse(signer["key"]),
            lifetime_minutes=int(signer["lifetime_minutes"]),
            backdate_seconds=int(signer.get("backdate_seconds", 60)),
            masked_id_attribute=masked_attr,
            subject=_subject(signer, "signer"),
        ),
        crl_validity_hours=int(data.get("crl", {}).get("validity_hours", 24)),
        ocsp_validity_hours=int(ocsp.get("validity_hours", 24)),
        responder=ResponderProfile(
            key=KeySpec.parse(ocsp.get("responder_key", "ec-p256")),
            lifetime_days=int(ocsp.get("responder_lifetime_days", 90)),
            renew_days=int(ocsp.get("responder_renew_days", 30)),
            subject=_subject({"subject": ocsp.get("responder_subject", {})}, "ocsp"),
        ),
    ).for_suite(suite)
