"""Access tokens: short-lived ES256 JWTs (python-jose), verified with an explicit allow-list.

The header is checked before the signature: only ``alg: ES256`` with our
``kid`` is accepted, so ``none``, HS256-with-the-public-key and other
algorithm-confusion tricks are refused before python-jose sees them
(python-jose ≥ 3.4 also fixed CVE-2024-33663/33664; we pass
``algorithms=["ES256"]`` regardless).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from jose import jwt
from jose.exceptions import JOSEError

ALGORITHM = "ES256"
ISSUER = "house-esign"
AUDIENCE = "miniapp"


class InvalidToken(Exception):
    """The token is malformed, forged, expired, or of the wrong kind."""


@dataclass(frozen=True)
class AccessClaims:
    user_id: str
    jti: str
    expires_at: int


class AccessTokens:
    def __init__(self, private_key_pem: bytes, key_id: str, ttl_s: int) -> None:
        key = serialization.load_pem_private_key(private_key_pem, password=None)
        self._private_pem = private_key_pem.decode()
        self._public_pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()
        self.key_id = key_id
        self.ttl_s = ttl_s

    def issue(self, user_id: str, now: int | None = None) -> tuple[str, AccessClaims]:
        now = int(time.time()) if now is None else now
        claims = AccessClaims(user_id=user_id, jti=secrets.token_hex(12),
                              expires_at=now + self.ttl_s)
        token = jwt.encode(
            {"sub": user_id, "iat": now, "exp": claims.expires_at, "jti": claims.jti,
             "iss": ISSUER, "aud": AUDIENCE, "typ": "access"},
            self._private_pem, algorithm=ALGORITHM, headers={"kid": self.key_id},
        )
        return token, claims

    def verify(self, token: str) -> AccessClaims:
        try:
            header = jwt.get_unverified_header(token)
        except JOSEError as exc:
            raise InvalidToken("malformed") from exc
        if header.get("alg") != ALGORITHM:
            raise InvalidToken("algorithm not allowed")
        if header.get("kid") != self.key_id:
            raise InvalidToken("unknown key")
        try:
            payload = jwt.decode(token, self._public_pem, algorithms=[ALGORITHM],
                                 audience=AUDIENCE, issuer=ISSUER)
        except JOSEError as exc:
            raise InvalidToken(str(exc)) from exc
        if payload.get("typ") != "access" or not isinstance(payload.get("sub"), str):
            raise InvalidToken("not an access token")
        return AccessClaims(user_id=payload["sub"], jti=str(payload.get("jti")),
                            expires_at=int(payload["exp"]))
