"""``pki trust-config --out DIR`` and ``pki revoke SERIAL --reason R``.

``revoke`` records a revocation of one of our certificates (a seal key
compromised, a certificate issued to the wrong person) in the database; every
host's CRL and OCSP answers list it within a second.

``trust-config`` writes the validation configuration for registry offices.

Writes what a registration office needs to validate filed PDFs offline with
pyHanko (``pyhanko sign adesverify``), our service stopped or unreachable:

* ``roots.pem``: the platform root CA (every signature chains to it);
* ``tsa.pem``: every certificate our timestamping unit has had, trusted
  directly, as trusted lists list timestamping services. The newest archive
  timestamp of a document has nothing later to prove when its status data
  existed, so it is validated at the current time: without the TSA trusted
  directly that needs fresh status data (online), with it none;
* ``pyhanko.yml``: a pyHanko CLI configuration with a validation context
  ``registry`` naming both files.

With ``SIGNING_SUITE=sm2`` pyHanko cannot validate the documents, so instead of
``pyhanko.yml`` it writes ``sm2_check.py`` (:mod:`signing.gm.offline_check`, a
standalone script: ``python sm2_check.py --roots roots.pem FILED.pdf``), which
checks every SM2 signature with the ``openssl`` command line.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from server.config import ConfigError, Settings
from signing.pki.revocation import REASONS

PYHANKO_CONFIG = """\
# pyHanko CLI configuration for validating filed contracts offline.
# Run from this directory:
#   pyhanko --config pyhanko.yml sign adesverify --validation-context registry FILED.pdf
validation-contexts:
  registry:
    trust: [roots.pem, tsa.pem]
    trust-replace: true
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("pki", help="the platform PKI")
    pki_sub = p.add_subparsers(dest="pki_command", required=True, metavar="ACTION")
    trust = pki_sub.add_parser("trust-config",
                               help="write the offline validation configuration for registry "
                                    "offices (roots.pem, tsa.pem, pyhanko.yml or, with "
                                    "SIGNING_SUITE=sm2, sm2_check.py)")
    trust.add_argument("--out", required=True, type=Path, help="directory to write into")
    trust.set_defaults(handler=run_trust_config)
    revoke = pki_sub.add_parser("revoke", help="revoke a certificate this PKI issued")
    revoke.add_argument("serial", help="the certificate's serial number, hexadecimal")
    revoke.add_argument("--reason", default="unspecified",
                        help="RFC 5280 reason: " + ", ".join(sorted(REASONS)))
    revoke.set_defaults(handler=run_revoke)


def run_revoke(args: argparse.Namespace) -> int:
    from server.commands.common import with_orm
    from server.secrets import load_secrets
    from server.services.revocations import Revocations, UnknownCertificate
    from server.services.signing_setup import open_pki

    if args.reason not in REASONS:
        raise ConfigError(f"--reason: one of {', '.join(sorted(REASONS))}")
    try:
        serial = int(args.serial.removeprefix("0x"), 16)
    except ValueError:
        raise ConfigError("SERIAL: a hexadecimal serial number") from None
    settings = Settings.from_env()
    pki = open_pki(settings, load_secrets(settings))

    async def run() -> dict[str, str]:
        try:
            r = await Revocations().revoke(pki, serial, args.reason)
        except UnknownCertificate as exc:
            raise ConfigError(f"SERIAL: {exc}") from None
        return {"serial": f"{r.serial:x}", "ca": pki.issuer_of(serial) or "",
                "reason": r.reason, "revoked_at": r.revoked_at.isoformat()}

    print(json.dumps(with_orm(settings, run)))
    return 0


def run_trust_config(args: argparse.Namespace) -> int:
    from server.secrets import load_secrets
    from server.services.signing_setup import open_pki
    from signing.pki.certs import certificates_pem

    settings = Settings.from_env()
    pki = open_pki(settings, load_secrets(settings))
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    tsa = pki.tsa_certs()
    (out / "roots.pem").write_bytes(pki.roots_pem())
    (out / "tsa.pem").write_bytes(certificates_pem(tsa))
    if pki.suite.is_sm2:
        from signing.gm import offline_check

        checker = "sm2_check.py"
        (out / checker).write_bytes(Path(offline_check.__file__).read_bytes())
    else:
        checker = "pyhanko.yml"
        (out / checker).write_text(PYHANKO_CONFIG)
    print(json.dumps({"roots": 1, "tsa_certificates": len(tsa), "suite": pki.suite.name,
                      "files": ["roots.pem", "tsa.pem", checker]}))
    if settings.tsa_url:
        print("note: TSA_URL is set: trust that TSA's certificate as well "
              "(tsa.pem lists only the in-process TSA)")
    return 0
