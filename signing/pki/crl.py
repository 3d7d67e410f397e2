"""Certificate revocation lists (RFC 5280 §5), signed by the CA that issued the certs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from asn1crypto import crl, x509

from signing.keys import SigningKey
from signing.pki.certs import key_identifier, x509_time
from signing.pki.revocation import Revocation

__all__ = ["build_crl"]


def build_crl(
    *,
    issuer: x509.Certificate,
    signing_key: SigningKey,
    revoked: Sequence[Revocation],
    this_update: datetime,
    validity: timedelta,
    digest: str,
) -> crl.CertificateList:
    """A complete (not delta) CRL for ``issuer``.

    The CRL number is this_update in seconds: it increases with every
    re-issue without a counter to keep in sync across processes.
    """
    this_update = this_update.replace(microsecond=0)
    algorithm = signing_key.signature_mechanism(digest)
    tbs_fields: dict[str, object] = {
        "version": "v2",
        "signature": algorithm,
        "issuer": issuer.subject,
        "this_update": x509_time(this_update),
        "next_update": x509_time(this_update + validity),
        "crl_extensions": [
            {
                "extn_id": "authority_key_identifier",
                "extn_value": {"key_identifier": key_identifier(issuer.public_key)},
            },
            {"extn_id": "crl_number", "extn_value": int(this_update.timestamp())},
        ],
    }
    if revoked:
        # an empty revokedCertificates must be absent, not an empty SEQUENCE
        tbs_fields["revoked_certificates"] = [
            {
                "user_certificate": item.serial,
                "revocation_date": x509_time(item.revoked_at),
                "crl_entry_extensions": [{"extn_id": "crl_reason", "extn_value": item.reason}],
            }
            for item in revoked
        ]
    tbs = crl.TbsCertList(tbs_fields)
    signature = signing_key.sign(tbs.dump(), digest)
    certificate_list = crl.CertificateList(
        {"tbs_cert_list": tbs, "signature_algorithm": algorithm, "signature": signature}
    )
    return crl.CertificateList.load(certificate_list.dump())
