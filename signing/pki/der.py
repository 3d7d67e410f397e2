"""A minimal DER encoder for the structures this PKI produces on hot paths.

asn1crypto is used everywhere else (parsing, validation, rarely issued
objects). But assembling a new asn1crypto structure that embeds parsed
certificates makes it walk and re-serialise them; for the objects made on
every signature — a certificate, an OCSP response, a CMS container, a
timestamp token — concatenating pre-encoded parts is several times faster.
Tests compare these encodings with asn1crypto's.
"""

from __future__ import annotations

from datetime import UTC, datetime

from asn1crypto import core

__all__ = [
    "bit_string",
    "boolean",
    "context",
    "generalized_time",
    "integer",
    "null",
    "octet_string",
    "oid",
    "sequence",
    "set_of",
    "time",
    "tlv",
    "utc_time",
]


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(raw),)) + raw


def tlv(tag: int, content: bytes) -> bytes:
    return bytes((tag,)) + _length(len(content)) + content


def sequence(*parts: bytes) -> bytes:
    return tlv(0x30, b"".join(parts))


def set_of(*parts: bytes) -> bytes:
    # DER: the elements of a SET OF are sorted by their encodings
    return tlv(0x31, b"".join(sorted(parts)))


def context(number: int, content: bytes, *, constructed: bool = True) -> bytes:
    """A context-specific tag ``[number]`` around ``content``.

    For EXPLICIT tagging pass the complete inner encoding; for IMPLICIT
    tagging pass the inner *contents* (what follows its own tag and length).
    """
    return tlv((0xA0 if constructed else 0x80) | number, content)


def integer(value: int) -> bytes:
    length = value.bit_length() // 8 + 1  # room for the sign bit
    return tlv(0x02, value.to_bytes(length, "big", signed=True))


def boolean(value: bool) -> bytes:
    return tlv(0x01, b"\xff" if value else b"\x00")


def null() -> bytes:
    return b"\x05\x00"


def octet_string(value: bytes) -> bytes:
    return tlv(0x04, value)


def bit_string(value: bytes) -> bytes:
    return tlv(0x03, b"\x00" + value)


_OIDS: dict[str, bytes] = {}


def oid(dotted: str) -> bytes:
    """Encoded OBJECT IDENTIFIER (cached per process)."""
    encoded = _OIDS.get(dotted)
    if encoded is None:
        encoded = _OIDS[dotted] = core.ObjectIdentifier(dotted).dump()
    return encoded


def utc_time(value: datetime) -> bytes:
    return tlv(0x17, value.astimezone(UTC).strftime("%y%m%d%H%M%SZ").encode())


def generalized_time(value: datetime) -> bytes:
    # whole seconds only: fractions would need trailing zeros trimmed (X.690 11.7)
    return tlv(0x18, value.astimezone(UTC).strftime("%Y%m%d%H%M%SZ").encode())


def time(value: datetime) -> bytes:
    """X.509 Time: UTCTime through 2049, GeneralizedTime after (RFC 5280 §4.1.2.5)."""
    return utc_time(value) if value.year < 2050 else generalized_time(value)
