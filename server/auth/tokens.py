"""Our JWTs: ES256 (python-jose) with the service key, verified against an explicit allow-list.

The header is checked before the signature: only ``alg: ES256`` with our
``kid`` is accepted, so ``none``, HS256-with-the-public-key and other
algorithm-confusion tricks are refused before python-jose sees them
(python-jose ≥ 3.4 also fixed CVE-2024-33663/33664; we pass
``algorithms=["ES256"]`` regardless). Each kind of token has its own audience
and ``typ``, so a mini-program token is never accepted by the registry API or
the other way round.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from jose import jwt
from jose.exceptions import JOSEError

ALGORITHM = "ES256"
ISSUER = "house-esign"
AUDIENCE = "miniapp"


class InvalidToken(Exception):
    """The token is malformed, forged, expired, or of the wrong kind."""


class Es256Codec:
    """Signs and checks one kind of token (an audience and a ``typ``)."""

    def __init__(self, private_key_pem: bytes, key_id: str, audience: str,
                 token_type: str) -> None:
        key = serialization.load_pem_private_key(private_key_pem, password=None)
        self._private_pem = private_key_pem.decode()
        self._public_pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()
        self.key_id = key_id
        self.audience = audience
        self.token_type = token_type

    def encode(self, subject: str, ttl_s: int, now: int | None = None, **extra: Any
               ) -> tuple[str, dict[str, Any]]:
        """The token and the claims it carries."""
        now = int(time.time()) if now is None else now
        claims = {"sub": subject, "iat": now, "exp": now + ttl_s, "jti": secrets.token_hex(12),
                  "iss": ISSUER, "aud": self.audience, "typ": self.token_type, **extra}
        token = jwt.encode(claims, self._private_pem, algorithm=ALGORITHM,
                           headers={"kid": self.key_id})
        return token, claims

    def decode(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except JOSEError as exc:
            raise InvalidToken("malformed") from exc
        if header.get("alg") != ALGORITHM:
            raise InvalidToken("algorithm not allowed")
        if header.get("kid") != self.key_id:
            raise InvalidToken("unknown key")
        try:
            claims = jwt.decode(token, self._public_pem, algorithms=[ALGORITHM],
                                audience=self.audience, issuer=ISSUER)
        except JOSEError as exc:
            raise InvalidToken(str(exc)) from exc
        if claims.get("typ") != self.token_type or not isinstance(claims.get("sub"), str):
            raise InvalidToken(f"not a {self.token_type} token")
        return claims

    @property
    def public_pem(self) -> str:
        return self._public_pem


@dataclass(frozen=True)
class AccessClaims:
    user_id: str
    jti: str
    expires_at: int


class AccessTokens:
    """The mini-program's short-lived access tokens."""

    #: Tokens already verified, kept until they expire (at most this many, oldest out).
    VERIFIED_CACHE = 1024

    def __init__(self, private_key_pem: bytes, key_id: str, ttl_s: int) -> None:
        self._codec = Es256Codec(private_key_pem, key_id, AUDIENCE, "access")
        self.key_id = key_id
        self.ttl_s = ttl_s
        self._verified: OrderedDict[str, AccessClaims] = OrderedDict()

    @property
    def _public_pem(self) -> str:
        return self._codec.public_pem

    def issue(self, user_id: str, now: int | None = None) -> tuple[str, AccessClaims]:
        token, claims = self._codec.encode(user_id, self.ttl_s, now)
        return token, AccessClaims(user_id, claims["jti"], claims["exp"])

    def verify(self, token: str) -> AccessClaims:
        """The token's claims, or :class:`InvalidToken`.

        A phone sends the same token with every request of its session, and checking the
        ES256 signature is most of an authenticated request's own CPU; so a token that
        verified is remembered, by its exact text, until it expires. Only a successful
        check is remembered (a forged token is checked, and refused, every time), and
        revocation is not cached: the caller checks the ``jti`` on every request.
        """
        known = self._verified.get(token)
        if known is not None:
            if known.expires_at > time.time():
                self._verified.move_to_end(token)
                return known
            del self._verified[token]
        claims = self._codec.decode(token)
        verified = AccessClaims(user_id=claims["sub"], jti=str(claims.get("jti")),
                                expires_at=int(claims["exp"]))
        self._verified[token] = verified
        if len(self._verified) > self.VERIFIED_CACHE:
            self._verified.popitem(last=False)
        return verified
