"""SM2 test certificates (GM/T 0015 shape: id-ecPublicKey on the SM2 curve, signed
sm2-with-sm3), built with asn1crypto and signed by our SM2 binding; ``openssl x509``
reads them in the tests, so the layout is not only ours."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from asn1crypto import keys, x509

from signing.gm.sm2 import Sm2PrivateKey


@dataclass(frozen=True)
class Sm2Identity:
    key: Sm2PrivateKey
    cert_der: bytes

    @property
    def cert(self) -> x509.Certificate:
        return x509.Certificate.load(self.cert_der)


def _name(org: str, common_name: str) -> x509.Name:
    return x509.Name.build({"country_name": "CN", "organization_name": org,
                            "common_name": common_name})


def issue(common_name: str, *, issuer: Sm2Identity | None = None, ca: bool = False,
          org: str = "咸宁市住房和城乡建设局", not_before: datetime | None = None,
          lifetime: timedelta = timedelta(days=365)) -> Sm2Identity:
    """A new key and its certificate, self-signed when ``issuer`` is None."""
    key = Sm2PrivateKey.generate()
    subject = _name(org, common_name)
    start = (not_before or datetime.now(UTC) - timedelta(minutes=5)).replace(microsecond=0)
    usage = {"key_cert_sign", "crl_sign"} if ca else {"digital_signature", "non_repudiation"}
    tbs = x509.TbsCertificate({
        "version": "v3",
        "serial_number": secrets.randbits(63),
        "signature": {"algorithm": "sm2_sm3"},
        "issuer": issuer.cert.subject if issuer else subject,
        "validity": {"not_before": x509.Time({"utc_time": start}),
                     "not_after": x509.Time({"utc_time": start + lifetime})},
        "subject": subject,
        "subject_public_key_info": keys.PublicKeyInfo.load(key.public_key().to_der()),
        "extensions": [
            {"extn_id": "basic_constraints", "critical": True, "extn_value": {"ca": ca}},
            {"extn_id": "key_usage", "critical": True, "extn_value": usage},
        ],
    })
    signer = issuer.key if issuer else key
    cert = x509.Certificate({"tbs_certificate": tbs,
                             "signature_algorithm": {"algorithm": "sm2_sm3"},
                             "signature_value": signer.sign(tbs.dump())})
    return Sm2Identity(key, cert.dump())
