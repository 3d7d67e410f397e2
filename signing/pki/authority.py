"""The platform PKI: root and issuing CAs, the filing seal, the platform, the TSA.

::

    root CA ──┬── issuing CA ──┬── party certificates (one per signature, 30 min)
              │                ├── filing-authority seal certificate
              │                └── OCSP responder (delegated, renewed every ~60 days)
              ├── platform document-certification certificate
              ├── time-stamping unit certificate
              └── OCSP responder (delegated)

Everything is generated on first use from ``certs/pki.toml``, under the
deployment's signing suite (:mod:`signing.suites`: ECDSA, or SM2 with SM3 for
every key, certificate, CRL, OCSP response and timestamp), and kept in a
data directory (an SM2 PKI in its ``sm2/`` subdirectory, so the two never
mix): certificates as DER files, keys either as passphrase-encrypted PKCS#8
files or inside a PKCS#11 token (per role, see
:class:`~signing.keys.Pkcs11Settings`). A :class:`Pki` object holds the loaded
keys for the life of the process; build it once per process
(:mod:`signing.worker`) and reuse it for every signature.

The CRL, OCSP, TSA and CA-certificate functions return plain bytes for the
web app to serve under ``/pki/`` at the URLs written into the certificates.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from asn1crypto import crl, ocsp, x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pyhanko.sign.signers import Signer
from pyhanko.sign.timestamps import TimeStamper

from signing.keys import (
    FileKeyStore,
    KeyStore,
    Pkcs11KeyStore,
    Pkcs11Settings,
    SigningKey,
    Sm2SoftKey,
    SoftKey,
    new_soft_key,
    open_pkcs11_session,
)
from signing.pki import locks
from signing.pki.certs import (
    CertificateTemplate,
    RevocationPointers,
    SerialTagger,
    ca_extensions,
    certificates_pem,
    end_entity_extensions,
    issue_certificate,
    ocsp_responder_extensions,
    tsa_extensions,
)
from signing.pki.cms import KeySigner
from signing.pki.config import CertProfile, PkiConfig, load_config
from signing.pki.crl import build_crl
from signing.pki.identity import id_hash, signer_subject
from signing.pki.locks import pki_lock
from signing.pki.ocsp import KnownCert, OcspAuthority, Responder, build_response, respond
from signing.pki.revocation import RevocationList
from signing.suites import ECDSA_P256, SigningSuite, get_suite

__all__ = ["CA_NAMES", "ROLES", "IssuedSigner", "Pki", "PkiSettings"]

ROLES = ("root", "issuing", "seal", "platform", "tsa")
CA_NAMES = ("root", "issuing")
# The seal is an end entity like the parties' certificates: issued by the
# intermediate CA, never by the root (which signs only CAs and services).
_ISSUER_OF = {"issuing": "root", "seal": "issuing", "platform": "root", "tsa": "root"}
_CRL_REFRESH = timedelta(hours=1)
_OCSP_REUSE = timedelta(hours=1)


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class PkiSettings:
    """Everything needed to open the PKI in a process; plain data, so it pickles.

    :param id_hash_key:
        Key for the keyed hash of ID numbers in party certificates. Defaults
        to a key derived from ``passphrase``; set it explicitly in production
        so that rotating the key-file passphrase does not change the hashes.
    :param tsa_url:
        An external RFC 3161 TSA to use instead of the in-process one.
    :param seal_authority:
        The filing authority the seal certificate names (its organization),
        exactly as the visible seal does; a seal certificate naming another
        is re-issued (same key) when the PKI is opened.
    :param tsa_trust_anchors:
        DER certificates the external TSA's tokens must chain to.
    :param tsa_policy_oid:
        The TSA policy: what the in-process TSA issues under, and what the
        client asks an external TSA for (reqPolicy) and requires in its
        tokens. None: ``certs/pki.toml``'s for the in-process TSA, the
        external TSA's default policy otherwise.
    :param suite:
        The signing suite's name (``SIGNING_SUITE``): ``ecdsa-p256`` or ``sm2``.
    """

    data_dir: Path
    passphrase: bytes = field(repr=False)
    public_base_url: str
    config_path: Path | None = None
    pkcs11: Pkcs11Settings | None = field(default=None, repr=False)
    id_hash_key: bytes | None = field(default=None, repr=False)
    tsa_url: str | None = None
    seal_authority: str | None = None
    tsa_trust_anchors: tuple[bytes, ...] = ()
    tsa_policy_oid: str | None = None
    tsa_timeout_s: float = 10
    suite: str = ECDSA_P256.name
    #: Redis for the creation/renewal lock when several hosts share ``data_dir``
    lock_redis_url: str | None = None
    lock_prefix: str = "hs:"


@dataclass(frozen=True)
class IssuedSigner:
    """A party's certificate with its one-signature private key (never stored)."""

    certificate: x509.Certificate
    key: SoftKey | Sm2SoftKey

_SOFT_KEYS = (SoftKey, Sm2SoftKey)


def _derive(passphrase: bytes, purpose: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt=b"contract-pki", info=purpose).derive(passphrase)


class Pki:
    """The loaded PKI of one process. Create with :meth:`load_or_create`."""

    def __init__(
        self,
        *,
        config: PkiConfig,
        data_dir: Path,
        public_base_url: str,
        keys: dict[str, SigningKey],
        certs: dict[str, x509.Certificate],
        id_hash_key: bytes,
        serial_key: bytes,
        tsa_url: str | None = None,
        tsa_trust_anchors: tuple[bytes, ...] = (),
        tsa_policy_oid: str | None = None,
        tsa_timeout_s: float = 10,
        pkcs11_session: Any = None,
        clock: Callable[[], datetime] = _utc_now,
        key_files: FileKeyStore,
        seal_authority: str | None = None,
    ):
        self.config = config
        self.data_dir = data_dir
        self.public_base_url = public_base_url.rstrip("/")
        self._keys = keys
        self._certs = certs
        self._id_hash_key = id_hash_key
        self._tagger = SerialTagger(serial_key)
        self._tsa_url = tsa_url
        self._tsa_trust_anchors = [x509.Certificate.load(c) for c in tsa_trust_anchors]
        self._tsa_policy_oid = tsa_policy_oid
        self._tsa_timeout_s = tsa_timeout_s
        self._pkcs11_session = pkcs11_session
        self.clock = clock
        # the service hands each job the current snapshot (use_revocations)
        self.revocations = RevocationList()
        self._crl_cache: dict[str, tuple[Any, crl.CertificateList]] = {}
        self._ocsp_cache: dict[tuple[str, int], tuple[Any, datetime, ocsp.OCSPResponse]] = {}
        self._ocsp_authorities: list[OcspAuthority] | None = None
        self._key_files = key_files
        self._responders: dict[str, Responder] = {}
        self._signer_template = CertificateTemplate(
            issuer=certs["issuing"],
            signing_key=keys["issuing"],
            digest=config.digest_algorithm,
            extensions=end_entity_extensions() + self.pointers("issuing").extensions(),
        )
        self._timestamper: TimeStamper | None = None
        self._seal_signer: Signer | None = None
        self._seal_authority = seal_authority

    # -- opening ---------------------------------------------------------

    @classmethod
    def load_or_create(
        cls,
        data_dir: Path,
        passphrase: bytes,
        public_base_url: str,
        config_path: Path | None = None,
        *,
        pkcs11: Pkcs11Settings | None = None,
        id_hash_key: bytes | None = None,
        tsa_url: str | None = None,
        seal_authority: str | None = None,
        tsa_trust_anchors: tuple[bytes, ...] = (),
        tsa_policy_oid: str | None = None,
        tsa_timeout_s: float = 10,
        clock: Callable[[], datetime] = _utc_now,
        suite: SigningSuite | str = ECDSA_P256,
    ) -> Pki:
        """Open the PKI in ``data_dir``, generating keys and certificates on first use.

        Safe to call from several processes at once: creation happens under
        an exclusive lock on the data directory. ``public_base_url`` goes into
        every certificate issued (CRL, OCSP and CA-issuer URLs): the CA
        certificates keep the one they were created with. ``clock`` is the
        time source for everything issued (tests move it to sign "in the past").
        ``suite``: the signing suite; an SM2 PKI lives in ``data_dir/sm2``.
        """
        suite = get_suite(suite)
        config = load_config(config_path, suite)
        data_dir = Path(data_dir)
        subdir = suite.pki_subdir()
        if subdir is not None:
            data_dir = data_dir / subdir
        if pkcs11 is not None and suite.is_sm2:
            raise ValueError("SIGNING_SUITE=sm2 keeps its keys in encrypted files: "
                             "SM2 keys in a PKCS#11 token are not supported")
        data_dir.mkdir(parents=True, exist_ok=True)
        session = open_pkcs11_session(pkcs11) if pkcs11 is not None else None
        file_store = FileKeyStore(data_dir / "keys", passphrase, config.kdf_rounds)
        hsm_store = Pkcs11KeyStore(session, pkcs11.label_prefix) if pkcs11 is not None else None

        def store_for(role: str) -> KeyStore:
            if hsm_store is not None and pkcs11 is not None and role in pkcs11.roles:
                return hsm_store
            return file_store

        # per suite: a serial one PKI issued is never taken as issued by the other
        serial_key = _derive(passphrase, b"certificate serial tag" + (
            b"" if subdir is None else b" " + subdir.encode()))
        tagger = SerialTagger(serial_key)
        with _locked(data_dir):
            keys = {
                role: store_for(role).load_or_create(role, config.profile(role).key)
                for role in ROLES
            }
            certs = _load_or_issue_certs(
                config,
                data_dir / "certs",
                keys,
                tagger,
                public_base_url.rstrip("/"),
                clock(),
                seal_authority=seal_authority,
            )
        return cls(
            config=config,
            data_dir=data_dir,
            public_base_url=public_base_url,
            keys=keys,
            certs=certs,
            id_hash_key=id_hash_key or _derive(passphrase, b"signer id hash"),
            serial_key=serial_key,
            tsa_url=tsa_url,
            tsa_trust_anchors=tsa_trust_anchors,
            tsa_policy_oid=tsa_policy_oid,
            tsa_timeout_s=tsa_timeout_s,
            pkcs11_session=session,
            clock=clock,
            key_files=file_store,
            seal_authority=seal_authority,
        )

    @classmethod
    def from_settings(cls, settings: PkiSettings) -> Pki:
        locks.configure(settings.lock_redis_url, settings.lock_prefix)
        return cls.load_or_create(
            settings.data_dir,
            settings.passphrase,
            settings.public_base_url,
            settings.config_path,
            pkcs11=settings.pkcs11,
            id_hash_key=settings.id_hash_key,
            tsa_url=settings.tsa_url,
            seal_authority=settings.seal_authority,
            tsa_trust_anchors=settings.tsa_trust_anchors,
            tsa_policy_oid=settings.tsa_policy_oid,
            tsa_timeout_s=settings.tsa_timeout_s,
            suite=settings.suite,
        )

    @property
    def suite(self) -> SigningSuite:
        """The signing suite every key and signature of this PKI follows."""
        return self.config.suite

    # -- URLs and certificates --------------------------------------------

    def pointers(self, ca: str) -> RevocationPointers:
        return _pointers(self.public_base_url, ca)

    def certificate(self, role: str) -> x509.Certificate:
        return self._certs[role]

    @property
    def root_cert(self) -> x509.Certificate:
        return self._certs["root"]

    @property
    def issuing_cert(self) -> x509.Certificate:
        return self._certs["issuing"]

    @property
    def seal_cert(self) -> x509.Certificate:
        return self._certs["seal"]

    @property
    def platform_cert(self) -> x509.Certificate:
        return self._certs["platform"]

    @property
    def tsa_cert(self) -> x509.Certificate:
        return self._certs["tsa"]

    def long_lived_certs(self) -> list[x509.Certificate]:
        """The CA, seal, platform and TSA certificates (no party certificates)."""
        return [self._certs[role] for role in ROLES]

    def key(self, role: str) -> SigningKey:
        return self._keys[role]

    def roots_pem(self) -> bytes:
        """The trust anchor(s) relying parties import (``/pki/roots.pem``)."""
        return certificates_pem([self.root_cert])

    def ca_cert_der(self, ca: str) -> bytes:
        """A CA certificate for the AIA caIssuers URL ``/pki/ca/{ca}.cer``."""
        if ca not in CA_NAMES:
            raise KeyError(ca)
        return self._certs[ca].dump()

    def trust_roots(self) -> list[x509.Certificate]:
        return [self.root_cert]

    def validation_roots(self) -> list[x509.Certificate]:
        """What a validator of our documents trusts: our root, and the external
        TSA's anchor when timestamps come from one."""
        return [self.root_cert, *self._tsa_trust_anchors]

    # -- parties -----------------------------------------------------------

    def id_hash(self, id_number: str) -> str:
        return id_hash(id_number, self._id_hash_key)

    def issue_signer(
        self, name: str, id_number: str, *, now: datetime | None = None
    ) -> IssuedSigner:
        """A fresh key and a short-lived certificate for one party signature."""
        profile = self.config.signer
        now = (now or self.clock()).astimezone(UTC).replace(microsecond=0)
        private_key = new_soft_key(profile.key)
        subject = signer_subject(
            name,
            id_number,
            key=self._id_hash_key,
            masked_id_attribute=profile.masked_id_attribute,
            base=dict(profile.subject),
        )
        not_after = now + timedelta(minutes=profile.lifetime_minutes)
        cert_der = self._signer_template.issue(
            subject=subject.dump(),
            public_key=private_key.public_key_info.dump(),
            serial=self._tagger.new_serial("issuing", not_after),
            not_before=now - timedelta(seconds=profile.backdate_seconds),
            not_after=not_after,
        )
        cert = x509.Certificate.load(cert_der)
        return IssuedSigner(cert, private_key)

    # -- pyHanko signers -----------------------------------------------------

    def seal_signer(self) -> Signer:
        """The filing authority's seal as a pyHanko signer (cached per process)."""
        if self._seal_signer is None:
            seal_key = self._keys["seal"]
            chain = [self.issuing_cert]
            if not isinstance(seal_key, _SOFT_KEYS):
                self._seal_signer = self._pkcs11_signer(seal_key, self.seal_cert, chain)
            else:
                self._seal_signer = KeySigner(
                    seal_key, self.seal_cert, chain, digest=self.config.digest_algorithm
                )
        return self._seal_signer

    def platform_signer(self) -> Signer:
        """The platform's certification signer (document certification at freeze)."""
        key = self._keys["platform"]
        if not isinstance(key, _SOFT_KEYS):
            return self._pkcs11_signer(key, self.platform_cert)
        return KeySigner(key, self.platform_cert, digest=self.config.digest_algorithm)

    def _pkcs11_signer(
        self, key: SigningKey, cert: x509.Certificate, chain: list[x509.Certificate] | None = None
    ) -> Signer:
        from pyhanko.sign.pkcs11 import PKCS11Signer

        return PKCS11Signer(
            self._pkcs11_session,
            key_label=key.label,  # type: ignore[attr-defined]
            signing_cert=cert,
            ca_chain=chain or [],
            embed_roots=False,
            use_raw_mechanism=True,
        )

    def timestamper(self) -> TimeStamper:
        """The TSA client: external by URL if configured, in-process otherwise.

        The in-process TSA's certificate is renewed (same key) once it has fewer
        than ``[tsa] renew_days`` left, so a renewed archive timestamp always
        outlives the one it renews.
        """
        if not self._tsa_url and _tsa_due(self._certs["tsa"], self.config, self.clock()):
            self._renew_tsa_certificate()
        # imported here: signing.timestamps builds on signing.pki's encoders
        from signing.timestamps import LocalTimeStamper, external_timestamper

        if self._timestamper is None:
            if self._tsa_url:
                if not self._tsa_trust_anchors:
                    raise ValueError("an external TSA needs its trust anchor (TSA_CA_FILE)")
                self._timestamper = external_timestamper(
                    self._tsa_url,
                    trust_anchors=self._tsa_trust_anchors,
                    policy_oid=self._tsa_policy_oid,
                    timeout=self._tsa_timeout_s,
                )
            else:
                self._timestamper = LocalTimeStamper(
                    self.tsa_cert,
                    self._keys["tsa"],
                    policy_oid=self._tsa_policy_oid or self.config.tsa_policy_oid,
                    digest=self.config.digest_algorithm,
                    # late-bound: replacing pki.clock (tests) also moves the TSA's time
                    clock=lambda: self.clock(),
                )
        return self._timestamper

    def _renew_tsa_certificate(self) -> None:
        with _locked(self.data_dir):
            # another process may have renewed it already: load, re-issue only if due
            self._certs = _load_or_issue_certs(
                self.config,
                self.data_dir / "certs",
                self._keys,
                self._tagger,
                self.public_base_url,
                self.clock(),
                seal_authority=self._seal_authority,
            )
        self._timestamper = None

    def tsa_certs(self) -> list[x509.Certificate]:
        """Every certificate the in-process TSA has had, the current one first.

        What a registry office trusts directly to validate archive timestamps
        offline (as trusted lists list TSA services): ``python -m server pki
        trust-config``.
        """
        older = sorted(
            (
                x509.Certificate.load(p.read_bytes())
                for p in (self.data_dir / "certs").glob("tsa-*.cer")
            ),
            key=lambda c: c.not_valid_after,
            reverse=True,
        )
        current = self.tsa_cert
        return [current, *(c for c in older if c.dump() != current.dump())]

    def tsa_response(self, request_der: bytes) -> bytes:
        """RFC 3161 over HTTP (``/pki/tsa``) from the in-process TSA."""
        from signing.timestamps import LocalTimeStamper

        tsa = self.timestamper()
        if not isinstance(tsa, LocalTimeStamper):
            raise RuntimeError("an external TSA is configured; it serves its own requests")
        return tsa.respond(request_der)

    # -- revocation ------------------------------------------------------------

    def issuer_of(self, serial: int) -> str | None:
        """Which of our CAs issued ``serial`` (None: not one of ours)."""
        for ca in ("issuing", "root"):
            if self._tagger.not_after(ca, serial) is not None:
                return ca
        return None

    def revoke(
        self, serial: int, reason: str = "unspecified", *, at: datetime | None = None
    ) -> None:
        """Revoke a certificate we issued, in this process's snapshot only.

        The durable, shared record is the service's
        (:func:`server.services.revocations.revoke`); this is for a PKI used on its
        own, as in tests and offline tools.
        """
        ca = self.issuer_of(serial)
        if ca is None:
            raise ValueError(f"serial {serial:x} was not issued by this PKI")
        self.revocations = self.revocations.with_added(ca, serial, reason, at)

    def use_revocations(self, revocations: RevocationList) -> None:
        """Answer from ``revocations`` from now on (CRL/OCSP caches key on its version)."""
        if revocations.version() != self.revocations.version():
            self.revocations = revocations

    def _status(self, ca: str) -> Callable[[int], KnownCert | None]:
        def status(serial: int) -> KnownCert | None:
            not_after = self._tagger.not_after(ca, serial)
            if not_after is None:
                return None
            return KnownCert(not_after, self.revocations.lookup(ca, serial))

        return status

    def _authorities(self) -> list[OcspAuthority]:
        if self._ocsp_authorities is None:
            self._ocsp_authorities = [
                OcspAuthority(
                    ca,
                    self._certs[ca],
                    self._status(ca),
                    lambda ca=ca: self.responder(ca),
                )
                for ca in CA_NAMES
            ]
        return self._ocsp_authorities

    def responder(self, ca: str) -> Responder:
        """The CA's delegated OCSP responder, renewed when due (checked on every use)."""
        now = self.clock()
        current = self._responders.get(ca)
        renew_before = timedelta(days=self.config.responder.renew_days)
        if current is None or not _current(current.cert, now, renew_before):
            with _locked(self.data_dir):
                current = _load_or_issue_responder(
                    ca=ca,
                    ca_cert=self._certs[ca],
                    ca_key=self._keys[ca],
                    config=self.config,
                    store=self._key_files,
                    cert_dir=self.data_dir / "certs",
                    tagger=self._tagger,
                    now=now,
                )
            self._responders[ca] = current
        return current

    def responder_certs(self) -> list[x509.Certificate]:
        """The current responder certificates (validation material for B-LT)."""
        return [self.responder(ca).cert for ca in CA_NAMES]

    def crl(self, ca: str, *, now: datetime | None = None) -> crl.CertificateList:
        """The current CRL of ``ca``, re-signed hourly or when a revocation lands."""
        if ca not in CA_NAMES:
            raise KeyError(ca)
        now = now or self.clock()
        version = self.revocations.version()
        cached = self._crl_cache.get(ca)
        if cached is not None:
            cached_version, cached_crl = cached
            this_update = cached_crl["tbs_cert_list"]["this_update"].native
            if cached_version == version and this_update <= now < this_update + _CRL_REFRESH:
                return cached_crl
        fresh = build_crl(
            issuer=self._certs[ca],
            signing_key=self._keys[ca],
            revoked=self.revocations.entries(ca),
            this_update=now,
            validity=timedelta(hours=self.config.crl_validity_hours),
            digest=self.config.digest_algorithm,
        )
        self._crl_cache[ca] = (version, fresh)
        return fresh

    def crl_der(self, ca: str) -> bytes:
        """DER CRL for ``/pki/crl/{ca}.crl``."""
        return self.crl(ca).dump()

    def ocsp_response(self, request_der: bytes) -> bytes:
        """DER OCSP response for a DER request (``POST /pki/ocsp``)."""
        return respond(
            request_der,
            self._authorities(),
            now=self.clock(),
            validity=timedelta(hours=self.config.ocsp_validity_hours),
            digest=self.config.digest_algorithm,
        )

    def ocsp_for(self, cert: x509.Certificate, *, now: datetime | None = None) -> ocsp.OCSPResponse:
        """A signed OCSP response about one of our certificates, for embedding (B-LT).

        Responses about long-lived certificates (CAs, the TSA, the seal) are
        reused for up to an hour: every party signature embeds one for the
        issuing CA and the TSA, and they need not be minted each time.
        """
        ca = _issuing_ca(self._certs, cert)
        if ca is None:
            raise ValueError("certificate was not issued by this PKI")
        now = (now or self.clock()).replace(microsecond=0)
        serial = cert.serial_number
        version = self.revocations.version()
        long_lived = cert.not_valid_after - now > _OCSP_REUSE * 24
        cached = self._ocsp_cache.get((ca, serial)) if long_lived else None
        if cached is not None:
            cached_version, produced, response = cached
            if cached_version == version and produced <= now < produced + _OCSP_REUSE:
                return response
        authority = next(a for a in self._authorities() if a.name == ca)
        response = build_response(
            authority,
            [(authority.cert_id(serial), serial)],
            now=now,
            validity=timedelta(hours=self.config.ocsp_validity_hours),
            digest=self.config.digest_algorithm,
        )
        if long_lived:
            self._ocsp_cache[(ca, serial)] = (version, now, response)
        return response


def _locked(data_dir: Path) -> AbstractContextManager[None]:
    """Exclusive lock over the PKI's keys and certificates, across processes and hosts."""
    return pki_lock(data_dir)


def _current(cert: x509.Certificate, now: datetime, renew_before: timedelta) -> bool:
    return cert.not_valid_before <= now and cert.not_valid_after - now > renew_before


def _load_or_issue_responder(
    *,
    ca: str,
    ca_cert: x509.Certificate,
    ca_key: SigningKey,
    config: PkiConfig,
    store: FileKeyStore,
    cert_dir: Path,
    tagger: SerialTagger,
    now: datetime,
) -> Responder:
    """The CA's current OCSP responder; a new key and certificate when due.

    Called under :func:`_locked`: of several processes noticing at once that
    renewal is due, the first renews and the others load its result.
    """
    profile = config.responder
    renew_before = timedelta(days=profile.renew_days)
    name = f"ocsp-{ca}"
    path = cert_dir / f"{name}.cer"
    if path.exists() and store.exists(name):
        cert = x509.Certificate.load(path.read_bytes())
        key = store.load(name)
        if cert.public_key.dump() == key.public_key_info.dump() and _current(
            cert, now, renew_before
        ):
            return Responder(cert, key)
    now = now.astimezone(UTC).replace(microsecond=0)
    key = store.replace(name, profile.key)
    ca_name = ca_cert.subject.native.get("common_name", ca)
    not_after = now + timedelta(days=profile.lifetime_days)
    cert = issue_certificate(
        subject=x509.Name.build({**dict(profile.subject), "common_name": f"{ca_name} OCSP"}),
        public_key=key.public_key_info,
        serial=tagger.new_serial(ca, not_after),
        not_before=now - timedelta(minutes=5),
        not_after=not_after,
        signing_key=ca_key,
        digest=config.digest_algorithm,
        issuer=ca_cert,
        extensions=ocsp_responder_extensions(),
    )
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(cert.dump())
    tmp.replace(path)
    return Responder(cert, key)


def _issuing_ca(certs: dict[str, x509.Certificate], cert: x509.Certificate) -> str | None:
    for ca in CA_NAMES:
        if cert.issuer == certs[ca].subject and cert.authority_key_identifier == (
            certs[ca].key_identifier
        ):
            return ca
    return None


def _pointers(base: str, ca: str) -> RevocationPointers:
    return RevocationPointers(
        crl_url=f"{base}/pki/crl/{ca}.crl",
        ocsp_url=f"{base}/pki/ocsp",
        ca_issuers_url=f"{base}/pki/ca/{ca}.cer",
    )


def _load_or_issue_certs(
    config: PkiConfig,
    cert_dir: Path,
    keys: dict[str, SigningKey],
    tagger: SerialTagger,
    base_url: str,
    now: datetime,
    *,
    seal_authority: str | None = None,
) -> dict[str, x509.Certificate]:
    """Load the stored certificates; issue whichever is missing (all, the first time).

    A certificate whose subject or issuer no longer fits (the seal of another
    authority name, a seal from before seals came from the issuing CA) is
    re-issued for the same key.
    """
    cert_dir.mkdir(parents=True, exist_ok=True)
    certs: dict[str, x509.Certificate] = {}
    reissue_children = False
    now = now.astimezone(UTC).replace(microsecond=0)
    for role in ROLES:
        path = cert_dir / f"{role}.cer"
        profile = config.profile(role)
        issuer_role = _ISSUER_OF.get(role)
        subject = _subject(profile, role, seal_authority)
        if path.exists() and not reissue_children:
            cert = x509.Certificate.load(path.read_bytes())
            if cert.public_key.dump() != keys[role].public_key_info.dump():
                raise ValueError(f"{path} does not match the {role} key")
            issuer = certs[issuer_role] if issuer_role else cert
            if cert.subject == subject and cert.issuer == issuer.subject and not (
                role == "tsa" and _tsa_due(cert, config, now)
            ):
                certs[role] = cert
                continue
            if role == "tsa":
                # documents keep referring to it: relying parties that trust TSA
                # certificates directly (see tsa_certs) need every one of them
                (cert_dir / f"tsa-{cert.serial_number:x}.cer").write_bytes(cert.dump())
        extensions = {
            "root": lambda: ca_extensions(path_len=None),
            "issuing": lambda: ca_extensions(path_len=0),
            "seal": end_entity_extensions,
            "platform": end_entity_extensions,
            "tsa": tsa_extensions,
        }[role]()
        if issuer_role is not None:
            extensions += _pointers(base_url, issuer_role).extensions()
        not_after = now + timedelta(days=profile.lifetime_days)
        cert = issue_certificate(
            subject=subject,
            public_key=keys[role].public_key_info,
            serial=tagger.new_serial(issuer_role or "root", not_after),
            not_before=now - timedelta(minutes=5),
            not_after=not_after,
            signing_key=keys[issuer_role or role],
            digest=config.digest_algorithm,
            issuer=certs[issuer_role] if issuer_role else None,
            extensions=extensions,
        )
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(cert.dump())
        tmp.replace(path)
        certs[role] = cert
        # a new root means the old children chain to nothing: re-issue them too
        reissue_children = reissue_children or role == "root"
    return certs


def _tsa_due(cert: x509.Certificate, config: PkiConfig, now: datetime) -> bool:
    return cert.not_valid_after - now < timedelta(days=config.tsa_renew_days)


def _subject(profile: CertProfile, role: str, seal_authority: str | None) -> x509.Name:
    """The configured subject; the seal's organization is the filing authority itself."""
    if role == "seal" and seal_authority:
        return x509.Name.build({**dict(profile.subject), "organization_name": seal_authority})
    return profile.subject_name()
