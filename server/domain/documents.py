"""Which documents a sale carries, and how their stored versions are named.

One sale, several documents (seed 001): the contract always; the funds-custody
agreement (资金监管协议) when the terms choose funds custody; the transaction
notice and commitment (交易告知书/承诺书) always. Every party signs every one
of them, and one passed ``sign`` face verification covers all of a party's
signatures. The set is decided from the frozen terms, once, at freeze.

Pure: plain values in, plain values out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from signing.document import (
    CONTRACT,
    DOCUMENT_TITLES,
    FUNDS_CUSTODY_AGREEMENT,
    TRANSACTION_NOTICE,
)

__all__ = [
    "CONTRACT",
    "DOCUMENT_KINDS",
    "DOCUMENT_TITLES",
    "FUNDS_CUSTODY_AGREEMENT",
    "TRANSACTION_NOTICE",
    "in_order",
    "kinds_for",
    "signed_stage",
]

# every kind there is, in the order the documents are listed, signed and sealed
DOCUMENT_KINDS: tuple[str, ...] = tuple(DOCUMENT_TITLES)


def kinds_for(terms: Mapping[str, Any]) -> tuple[str, ...]:
    """The documents a sale with these terms carries, in order."""
    kinds = [CONTRACT]
    if terms.get("funds_custody"):
        kinds.append(FUNDS_CUSTODY_AGREEMENT)
    kinds.append(TRANSACTION_NOTICE)
    return tuple(kinds)


def in_order(kinds: Iterable[str]) -> list[str]:
    """``kinds`` without repeats, in the canonical order (unknown kinds last)."""
    rank = {k: i for i, k in enumerate(DOCUMENT_KINDS)}
    return sorted(set(kinds), key=lambda k: (rank.get(k, len(rank)), k))


def signed_stage(party_id: str) -> str:
    """The stage of the version a party's signature produced."""
    return f"signed:{party_id}"
