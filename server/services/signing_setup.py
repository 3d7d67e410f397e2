"""Opening the PKI and the CPU pool that renders, signs and validates.

The PKI is created once, in the serving process before any worker starts
(``python -m server serve``); every pool process then opens the same keys
(:func:`signing.worker.init_worker`) and keeps them loaded.
"""

from __future__ import annotations

from server.config import Settings, read_certificates
from server.secrets import ServiceSecrets
from signing.keys import Pkcs11Settings
from signing.pki import Pki, PkiSettings


def pki_settings(settings: Settings, secrets: ServiceSecrets) -> PkiSettings:
    pkcs11 = None
    if settings.pkcs11_module and settings.pkcs11_token_label and settings.pkcs11_pin:
        pkcs11 = Pkcs11Settings(module=settings.pkcs11_module,
                                token_label=settings.pkcs11_token_label,
                                user_pin=settings.pkcs11_pin)
    return PkiSettings(
        data_dir=settings.pki_dir,
        passphrase=secrets.pki_passphrase,
        public_base_url=settings.public_base_url,
        config_path=settings.pki_config,
        pkcs11=pkcs11,
        id_hash_key=secrets.identity_index_key,
        tsa_url=settings.tsa_url,
        seal_authority=settings.filing_authority_name,
        tsa_trust_anchors=read_certificates(settings.tsa_ca_file) if settings.tsa_ca_file else (),
        tsa_policy_oid=settings.tsa_policy_oid,
        tsa_timeout_s=settings.tsa_timeout_s,
        suite=settings.signing_suite,
        lock_redis_url=settings.redis_url,
        lock_prefix=settings.redis_key_prefix,
    )


def open_pki(settings: Settings, secrets: ServiceSecrets) -> Pki:
    """Load the PKI, generating development keys on first use."""
    return Pki.from_settings(pki_settings(settings, secrets))
