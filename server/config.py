"""Configuration, read once from the environment.

The embedded default needs no variable at all: SQLite and files under
``DATA_DIR``, an in-process key-value store, the sandbox providers, and
development secrets generated on first start into ``DATA_DIR/secrets``.
Production (``APP_ENV=production``) refuses every one of those shortcuts, so
a forgotten variable stops the process at start instead of running with a
key that lives on a developer's disk.

Every problem is a :class:`ConfigError` whose message is one line naming the
variable and what is wrong with it; the CLI prints it and exits.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import urlsplit


class ConfigError(Exception):
    """A configuration value is missing or wrong; the message is one line."""


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name}: expected true or false, got {raw!r}")


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 0,
         maximum: int | None = None) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}: expected a whole number, got {raw!r}") from None
    if value < minimum or (maximum is not None and value > maximum):
        upper = f" and {maximum}" if maximum is not None else ""
        raise ConfigError(f"{name}: must be at least {minimum}{upper}, got {value}")
    return value


def _origins(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """Comma-separated origins (``scheme://host[:port]``, no path); unset = none."""
    out: list[str] = []
    for raw in (env.get(name) or "").split(","):
        origin = raw.strip()
        if not origin:
            continue
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.hostname or \
                parts.path not in ("", "/") or parts.query or parts.fragment or "*" in origin:
            raise ConfigError(f"{name}: {origin!r} is not an origin like https://example.com")
        out.append(f"{parts.scheme}://{parts.netloc}".lower())
    return tuple(out)


def _choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    value = (env.get(name) or default).strip()
    if value not in choices:
        raise ConfigError(f"{name}: must be one of {', '.join(choices)}, got {value!r}")
    return value


def _url(env: Mapping[str, str], name: str, default: str | None,
         schemes: tuple[str, ...]) -> str | None:
    raw = env.get(name) or default
    if raw is None:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in schemes:
        allowed = " or ".join(s + "://" for s in schemes)
        raise ConfigError(f"{name}: unsupported scheme {parts.scheme!r} (use {allowed})")
    return raw


def _existing_file(env: Mapping[str, str], name: str) -> Path | None:
    raw = env.get(name)
    if not raw:
        return None
    path = Path(raw)
    if not path.is_file():
        raise ConfigError(f"{name}: no such file: {raw}")
    return path
def _oid(env: Mapping[str, str], name: str) -> str | None:
    raw = (env.get(name) or "").strip()
    if not raw:
        return None
    arcs = raw.split(".")
    if len(arcs) < 2 or not all(a.isdigit() for a in arcs) or arcs[0] not in ("0", "1", "2"):
        raise ConfigError(f"{name}: expected a dotted object identifier like 1.2.156.1, "
                          f"got {raw!r}")
    return raw


def read_certificates(path: str) -> tuple[bytes, ...]:
    """The DER certificates in a PEM (one or more) or DER file."""
    from asn1crypto import pem, x509

    data = Path(path).read_bytes()
    if pem.detect(data):
        blocks = [der for kind, _, der in pem.unarmor(data, multiple=True)
                  if kind == "CERTIFICATE"]
    else:
        blocks = [data]
    out = []
    for block in blocks:
        _ = x509.Certificate.load(block).native  # parse now: fail at start, not at signing
        out.append(block)
    if not out:
        raise ValueError("no certificate in the file")
    return tuple(out)


@dataclass(frozen=True)
class Settings:
    """Everything the process reads from its environment, validated."""

    app_env: str = "development"
    data_dir: Path = Path("var")
    database_url: str = ""
    redis_url: str | None = None
    redis_key_prefix: str = "hs:"
    public_base_url: str = "http://127.0.0.1:8000"
    sandbox_enabled: bool = True
    log_level: str = "INFO"
    max_body_bytes: int = 1024 * 1024
    max_pdf_upload_bytes: int = 20 * 1024 * 1024
    request_timeout_s: int = 60
    cpu_workers: int = 2
    # the pool yields the CPU to the event loops (see server/cpu.py)
    cpu_pool_nice: int = 5
    font_dir: str | None = None
    # files (under DATA_DIR) or database; the database lets several hosts share documents
    document_store: str = "files"
    pki_dir_override: Path | None = None
    # Secrets. In development they are generated under DATA_DIR/secrets when
    # unset; production requires them.
    identity_encryption_key: str | None = None
    identity_index_key: str | None = None
    # base64 of 16 bytes: SM4 for ID numbers and phones (SIGNING_SUITE=sm2, and reading
    # rows written under it)
    identity_sm4_key: str | None = None
    token_signing_key_file: str | None = None
    token_key_id: str | None = None
    pki_passphrase: str | None = None
    # Face verification
    face_provider: str = "sandbox"
    face_similarity_threshold: int = 70
    face_result_valid_s: int = 600
    face_consent_text_version: str = "face-consent-2026-01"
    tencent_secret_id: str | None = None
    tencent_secret_key: str | None = None
    tencent_rule_id: str | None = None
    tencent_region: str = "ap-guangzhou"
    tencent_endpoint: str | None = None
    wechat_app_id: str | None = None
    wechat_app_secret: str | None = None
    wechat_endpoint: str = "https://api.weixin.qq.com"
    alibaba_access_key_id: str | None = None
    alibaba_access_key_secret: str | None = None
    alibaba_scene_id: str | None = None
    alibaba_endpoint: str = "https://cloudauth.aliyuncs.com"
    # Face verification: provider calls, start limits, the sandbox's own credentials
    face_provider_timeout_s: int = 8
    face_query_retries: int = 2
    face_rate_window_s: int = 3600
    face_rate_per_user: int = 10
    face_rate_per_id_number: int = 10
    sandbox_tencent_secret_id: str | None = None
    sandbox_tencent_secret_key: str | None = None
    sandbox_face_token_ttl_s: int = 7200
    # Login
    access_token_ttl_s: int = 900
    refresh_token_ttl_s: int = 30 * 24 * 3600
    gov_oauth_token_url: str | None = None
    gov_oauth_userinfo_url: str | None = None
    gov_oauth_client_id: str | None = None
    gov_oauth_client_secret: str | None = None
    gov_oauth_provider_name: str = "gov"
    # Contracts and filing
    draft_ttl_days: int = 30
    invitation_ttl_s: int = 7 * 24 * 3600
    filing_authority_name: str = "咸宁市住房和城乡建设局"
    tsa_url: str | None = None
    # What every key and signature uses: ecdsa-p256 (ECDSA with SHA-256) or sm2 (SM2 with
    # SM3, 国密); each suite has a PKI of its own under DATA_DIR/pki
    signing_suite: str = "ecdsa-p256"
    # The PKI's descriptive configuration (certs/pki.toml by default)
    pki_config: Path | None = None
    # Archive-timestamp renewal: how far ahead a TSA certificate's expiry counts as due,
    # and how often the background job looks (0 = never; the CLI still works)
    archive_renew_within_days: int = 180
    archive_renew_interval_s: int = 6 * 3600
    # The external TSA's trust anchor (its CA certificate, PEM or DER), its policy, its timeout
    tsa_ca_file: str | None = None
    tsa_policy_oid: str | None = None
    tsa_timeout_s: int = 10
    # PKCS#11 for the CA and seal keys (production)
    pkcs11_module: str | None = None
    pkcs11_token_label: str | None = None
    pkcs11_pin: str | None = None
    # Registry office
    registry_token_ttl_s: int = 3600
    # Failed token requests per window, per client_id and per client address, before 429
    registry_token_failures_per_client: int = 5
    registry_token_failures_per_address: int = 20
    registry_token_failure_window_s: int = 300
    # Other agencies (tax, banks, ...): contract reads per client and minute, before 429
    agency_reads_per_minute: int = 60
    # Service-point staff: how long a staff login lasts
    staff_token_ttl_s: int = 4 * 3600
    webhook_timeout_s: int = 10
    # Browser origins allowed to call the API cross-origin (none by default)
    cors_origins: tuple[str, ...] = ()
    # Public verification (/v/{code}): requests per client address and minute,
    # PDF checks per client address and minute, seconds the page's facts stay cached (0 = off)
    verify_rate_limit_per_minute: int = 120
    verify_document_rate_limit_per_minute: int = 10
    verify_cache_ttl_s: int = 300
    # Development only: die at a named point of filing, to test crash recovery.
    crash_point: str | None = None
    # Development only: a directory through which tests hold a filing at a named point.
    test_hook_dir: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def production(self) -> bool:
        return self.app_env == "production"

    @property
    def uses_postgres(self) -> bool:
        return self.database_url.startswith(("postgres://", "postgresql://"))

    @property
    def secrets_dir(self) -> Path:
        return self.data_dir / "secrets"

    @property
    def pki_dir(self) -> Path:
        """Keys and certificates: a volume every host mounts (``PKI_DIR``), or under
        ``DATA_DIR`` for one host."""
        return self.pki_dir_override or self.data_dir / "pki"

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and validate the environment; raise :class:`ConfigError` on the first problem."""
        env = os.environ if env is None else env
        app_env = _choice(env, "APP_ENV", "development", ("development", "production"))
        production = app_env == "production"
        data_dir = Path(env.get("DATA_DIR") or "var")
        database_url = _url(env, "DATABASE_URL", f"sqlite://{data_dir / 'app.sqlite3'}",
                            ("sqlite", "postgres", "postgresql"))
        redis_url = _url(env, "REDIS_URL", None, ("redis", "rediss", "unix"))
        public_base_url = _url(env, "PUBLIC_BASE_URL", "http://127.0.0.1:8000", ("http", "https"))
        assert database_url is not None and public_base_url is not None
        public_base_url = public_base_url.rstrip("/")
        sandbox_enabled = _bool(env, "SANDBOX_ENABLED", not production)
        face_provider = _choice(env, "FACE_PROVIDER", "sandbox" if sandbox_enabled else "tencent",
                                ("sandbox", "tencent", "wechat", "alibaba"))
        settings = cls(
            app_env=app_env,
            data_dir=data_dir,
            database_url=database_url,
            redis_url=redis_url,
            redis_key_prefix=env.get("REDIS_KEY_PREFIX") or "hs:",
            public_base_url=public_base_url,
            sandbox_enabled=sandbox_enabled,
            log_level=_choice(env, "LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR")),
            max_body_bytes=_int(env, "MAX_BODY_BYTES", 1024 * 1024, minimum=1024),
            max_pdf_upload_bytes=_int(env, "MAX_PDF_UPLOAD_BYTES", 20 * 1024 * 1024,
                                      minimum=1024),
            request_timeout_s=_int(env, "REQUEST_TIMEOUT_S", 60, minimum=1),
            cpu_workers=_int(env, "CPU_WORKERS", min(4, os.cpu_count() or 1), minimum=1,
                             maximum=64),
            cpu_pool_nice=_int(env, "CPU_POOL_NICE", 5, minimum=0, maximum=19),
            font_dir=env.get("FONT_DIR") or None,
            pki_dir_override=Path(env["PKI_DIR"]) if env.get("PKI_DIR") else None,
            document_store=_choice(
                env, "DOCUMENT_STORE",
                "files" if database_url.startswith("sqlite") else "database",
                ("files", "database")),
            identity_encryption_key=env.get("IDENTITY_ENCRYPTION_KEY") or None,
            identity_index_key=env.get("IDENTITY_INDEX_KEY") or None,
            identity_sm4_key=env.get("IDENTITY_SM4_KEY") or None,
            token_signing_key_file=env.get("TOKEN_SIGNING_KEY_FILE") or None,
            token_key_id=env.get("TOKEN_KEY_ID") or None,
            pki_passphrase=env.get("PKI_PASSPHRASE") or None,
            face_provider=face_provider,
            face_similarity_threshold=_int(env, "FACE_SIMILARITY_THRESHOLD", 70, minimum=1,
                                           maximum=100),
            face_result_valid_s=_int(env, "FACE_RESULT_VALID_S", 600, minimum=30),
            face_consent_text_version=env.get("FACE_CONSENT_TEXT_VERSION")
            or "face-consent-2026-01",
            tencent_secret_id=env.get("TENCENT_SECRET_ID") or None,
            tencent_secret_key=env.get("TENCENT_SECRET_KEY") or None,
            tencent_rule_id=env.get("TENCENT_RULE_ID") or None,
            tencent_region=env.get("TENCENT_REGION") or "ap-guangzhou",
            tencent_endpoint=_url(env, "TENCENT_ENDPOINT", None, ("http", "https")),
            wechat_app_id=env.get("WECHAT_APP_ID") or None,
            wechat_app_secret=env.get("WECHAT_APP_SECRET") or None,
            wechat_endpoint=_url(env, "WECHAT_ENDPOINT", "https://api.weixin.qq.com",
                                 ("http", "https")) or "",
            alibaba_access_key_id=env.get("ALIBABA_ACCESS_KEY_ID") or None,
            alibaba_access_key_secret=env.get("ALIBABA_ACCESS_KEY_SECRET") or None,
            alibaba_scene_id=env.get("ALIBABA_SCENE_ID") or None,
            alibaba_endpoint=_url(env, "ALIBABA_ENDPOINT", "https://cloudauth.aliyuncs.com",
                                  ("http", "https")) or "",
            # Face verification. Development allows more starts: test suites bind the
            # same sample identities many times; production keeps the tight limits.
            face_provider_timeout_s=_int(env, "FACE_PROVIDER_TIMEOUT_S", 8, minimum=1,
                                         maximum=120),
            face_query_retries=_int(env, "FACE_QUERY_RETRIES", 2, minimum=0, maximum=5),
            face_rate_window_s=_int(env, "FACE_RATE_WINDOW_S", 3600, minimum=1),
            face_rate_per_user=_int(env, "FACE_RATE_PER_USER", 10 if production else 100,
                                    minimum=1),
            face_rate_per_id_number=_int(env, "FACE_RATE_PER_ID_NUMBER",
                                         10 if production else 100, minimum=1),
            sandbox_tencent_secret_id=env.get("SANDBOX_TENCENT_SECRET_ID") or None,
            sandbox_tencent_secret_key=env.get("SANDBOX_TENCENT_SECRET_KEY") or None,
            sandbox_face_token_ttl_s=_int(env, "SANDBOX_FACE_TOKEN_TTL_S", 7200, minimum=1),
            access_token_ttl_s=_int(env, "ACCESS_TOKEN_TTL_S", 900, minimum=30),
            refresh_token_ttl_s=_int(env, "REFRESH_TOKEN_TTL_S", 30 * 24 * 3600, minimum=60),
            gov_oauth_token_url=_url(env, "GOV_OAUTH_TOKEN_URL", None, ("http", "https")),
            gov_oauth_userinfo_url=_url(env, "GOV_OAUTH_USERINFO_URL", None, ("http", "https")),
            gov_oauth_client_id=env.get("GOV_OAUTH_CLIENT_ID") or None,
            gov_oauth_client_secret=env.get("GOV_OAUTH_CLIENT_SECRET") or None,
            gov_oauth_provider_name=env.get("GOV_OAUTH_PROVIDER_NAME") or "gov",
            draft_ttl_days=_int(env, "DRAFT_TTL_DAYS", 30, minimum=1),
            invitation_ttl_s=_int(env, "INVITATION_TTL_S", 7 * 24 * 3600, minimum=60),
            filing_authority_name=env.get("FILING_AUTHORITY_NAME") or "咸宁市住房和城乡建设局",
            tsa_url=_url(env, "TSA_URL", None, ("http", "https")),
            signing_suite=_choice(env, "SIGNING_SUITE", "ecdsa-p256", ("ecdsa-p256", "sm2")),
            pki_config=_existing_file(env, "PKI_CONFIG"),
            archive_renew_within_days=_int(env, "ARCHIVE_RENEW_WITHIN_DAYS", 180, minimum=1,
                                           maximum=3650),
            archive_renew_interval_s=_int(env, "ARCHIVE_RENEW_INTERVAL_S", 6 * 3600, minimum=0),
            tsa_ca_file=env.get("TSA_CA_FILE") or None,
            tsa_policy_oid=_oid(env, "TSA_POLICY_OID"),
            tsa_timeout_s=_int(env, "TSA_TIMEOUT_S", 10, minimum=1, maximum=120),
            pkcs11_module=env.get("PKCS11_MODULE") or None,
            pkcs11_token_label=env.get("PKCS11_TOKEN_LABEL") or None,
            pkcs11_pin=env.get("PKCS11_PIN") or None,
            registry_token_ttl_s=_int(env, "REGISTRY_TOKEN_TTL_S", 3600, minimum=60),
            registry_token_failures_per_client=_int(
                env, "REGISTRY_TOKEN_FAILURES_PER_CLIENT", 5, minimum=1),
            registry_token_failures_per_address=_int(
                env, "REGISTRY_TOKEN_FAILURES_PER_ADDRESS", 20, minimum=1),
            registry_token_failure_window_s=_int(
                env, "REGISTRY_TOKEN_FAILURE_WINDOW_S", 300, minimum=1, maximum=86400),
            agency_reads_per_minute=_int(env, "AGENCY_READS_PER_MINUTE", 60, minimum=1),
            staff_token_ttl_s=_int(env, "STAFF_TOKEN_TTL_S", 4 * 3600, minimum=60,
                                   maximum=86400),
            cors_origins=_origins(env, "CORS_ORIGINS"),
            webhook_timeout_s=_int(env, "WEBHOOK_TIMEOUT_S", 10, minimum=1),
            verify_rate_limit_per_minute=_int(env, "VERIFY_RATE_LIMIT_PER_MINUTE", 120,
                                              minimum=1),
            verify_document_rate_limit_per_minute=_int(
                env, "VERIFY_DOCUMENT_RATE_LIMIT_PER_MINUTE", 10, minimum=1),
            verify_cache_ttl_s=_int(env, "VERIFY_CACHE_TTL_S", 300, minimum=0, maximum=86400),
            crash_point=env.get("CRASH_POINT") or None,
            test_hook_dir=env.get("TEST_HOOK_DIR") or None,
        )
        settings.check()
        return settings

    def check(self) -> None:
        """Rules that span several values."""
        if self.face_provider == "sandbox" and not self.sandbox_enabled:
            raise ConfigError("FACE_PROVIDER: 'sandbox' needs SANDBOX_ENABLED=true")
        if self.production:
            if self.sandbox_enabled:
                raise ConfigError("SANDBOX_ENABLED: the sandbox is refused when APP_ENV=production")
            for name in ("identity_encryption_key", "identity_index_key",
                         "token_signing_key_file", "pki_passphrase"):
                if not getattr(self, name):
                    raise ConfigError(
                        f"{name.upper()}: required when APP_ENV=production "
                        "(development secrets are refused)"
                    )
            if self.signing_suite == "sm2" and not self.identity_sm4_key:
                raise ConfigError("IDENTITY_SM4_KEY: required with SIGNING_SUITE=sm2 when "
                                  "APP_ENV=production (development secrets are refused)")
            if self.crash_point:
                raise ConfigError("CRASH_POINT: a test hook, refused when APP_ENV=production")
            if self.test_hook_dir:
                raise ConfigError("TEST_HOOK_DIR: a test hook, refused when APP_ENV=production")
            if any(o.startswith("http://") for o in self.cors_origins):
                raise ConfigError("CORS_ORIGINS: must be https:// origins when "
                                  "APP_ENV=production")
            if not self.public_base_url.startswith("https://"):
                raise ConfigError("PUBLIC_BASE_URL: must be https:// when APP_ENV=production")
            if not self.tsa_url:
                raise ConfigError("TSA_URL: required when APP_ENV=production (an external "
                                  "trusted timestamp authority; the in-process TSA is refused)")
        if self.tsa_url:
            if not self.tsa_ca_file:
                raise ConfigError("TSA_CA_FILE: TSA_URL needs the TSA's trust anchor "
                                  "(its CA certificate file, PEM or DER)")
            try:
                read_certificates(self.tsa_ca_file)
            except (OSError, ValueError, TypeError) as exc:
                raise ConfigError(f"TSA_CA_FILE: cannot read a certificate from "
                                  f"{self.tsa_ca_file!r} ({type(exc).__name__})") from None
        if self.pkcs11_module and not (self.pkcs11_token_label and self.pkcs11_pin):
            raise ConfigError("PKCS11_TOKEN_LABEL: PKCS11_MODULE needs PKCS11_TOKEN_LABEL and "
                              "PKCS11_PIN")
        if self.pkcs11_module and self.signing_suite == "sm2":
            raise ConfigError("PKCS11_MODULE: SIGNING_SUITE=sm2 keeps its keys in encrypted "
                              "key files (SM2 keys in a PKCS#11 token are not supported)")
        provider_needs = {
            "tencent": ("tencent_secret_id", "tencent_secret_key", "tencent_rule_id"),
            "wechat": ("wechat_app_id", "wechat_app_secret"),
            "alibaba": ("alibaba_access_key_id", "alibaba_access_key_secret",
                        "alibaba_scene_id"),
        }
        for name in provider_needs.get(self.face_provider, ()):
            if not getattr(self, name):
                raise ConfigError(
                    f"{name.upper()}: required by FACE_PROVIDER={self.face_provider}"
                )

    def public_dict(self) -> dict[str, object]:
        """The settings without secrets, for a start-up log line."""
        hidden = ("key", "secret", "passphrase", "pin")
        out: dict[str, object] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if any(h in f.name for h in hidden):
                value = "***" if value else None
            elif f.name in ("database_url", "redis_url") and value:
                parts = urlsplit(str(value))
                value = f"{parts.scheme}://{parts.hostname or ''}{parts.path}"
            out[f.name] = str(value) if isinstance(value, Path) else value
        return out
