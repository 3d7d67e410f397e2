"""Rendering a :class:`~signing.document.ContractDocument` into the contract PDF.

The PDF is the legal record and the thing every party signs, so it is built
to be archived and signed: PDF/A-2b (fonts embedded as subsets, XMP
metadata), deterministic for the same document (its creation date is the
contract's issue date), and with the signature boxes' exact positions
reported back so the signing step creates its fields on the drawn boxes.

Typst does the layout. The data goes in as one JSON string (``sys.inputs``)
with every value already formatted here (dates, amounts, capital numerals),
so the template only lays out and the wording of money is tested in Python.

:func:`render_contract` is a plain module-level function with picklable
arguments because the app runs it in a process pool. What is expensive —
finding the fonts, parsing their character maps, scanning them into a typst
font book, setting up the compiler — is done once per process and reused;
the compiler's own memoisation then makes a render a matter of milliseconds.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import typst

from signing.document import (
    CONTRACT,
    DOCUMENT_TITLES,
    FUNDS_CUSTODY_AGREEMENT,
    OWNERSHIP_KINDS,
    PAYMENT_METHODS,
    ROLES,
    SEAL_FIELD_NAME,
    STRUCTURES,
    TAX_BEARERS,
    TRANSACTION_NOTICE,
    ContractDocument,
    Party,
    SignatureSlot,
    signature_field_name,
)
from signing.fonts import FontSet, ensure_document_renderable, ensure_renderable, find_fonts
from signing.numerals import capital_amount, chinese_number, figures_amount
from signing.qr import qr_svg

log = logging.getLogger(__name__)

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates" / "contract"
TEMPLATE = TEMPLATE_DIR / "contract.typ"
# Every document of a sale, one template each, rendered from the same ContractDocument
TEMPLATES = {
    CONTRACT: TEMPLATE,
    FUNDS_CUSTODY_AGREEMENT: TEMPLATE_DIR / "custody.typ",
    TRANSACTION_NOTICE: TEMPLATE_DIR / "notice.typ",
}
PDF_STANDARD = "a-2b"
CONTRACT_TITLE = DOCUMENT_TITLES[CONTRACT]

# Contract dates are Beijing time; the PDF's creation date is the issue date
# so that rendering the same frozen contract twice gives the same bytes.
_CHINA_TZ = timezone(timedelta(hours=8))
_SERIF_FAMILIES = ("Noto Serif SC", "Noto Serif CJK SC")
_SANS_FAMILIES = ("Noto Sans SC", "Noto Sans CJK SC")
_PARTY_ORDER = ("seller", "buyer", "agent")


@dataclass(frozen=True)
class RenderedContract:
    pdf: bytes
    slots: tuple[SignatureSlot, ...]
    page_count: int


# typst's Rust core keeps process-global state (worker threads, caches) that a
# fork() does not carry over in working order: a child forked after typst ran
# in its parent blocks forever on its first compile. Fail loudly instead.
_typst_started_in_pid: int | None = None


def _check_fork_safety() -> None:
    global _typst_started_in_pid
    pid = os.getpid()
    if _typst_started_in_pid is None:
        _typst_started_in_pid = pid
    elif _typst_started_in_pid != pid:
        raise RuntimeError(
            "render_contract called in a process forked after typst was used in its parent; "
            "it would hang. Use a 'spawn' or 'forkserver' process pool, or render only in workers."
        )


class _Renderer:
    """One process's compiler for one template and font configuration."""

    def __init__(self, fonts: FontSet, template: Path = TEMPLATE) -> None:
        self.fonts = fonts
        book = typst.Fonts(
            include_system_fonts=False,
            include_embedded_fonts=False,
            font_paths=list(fonts.dirs),
        )
        families = set(book.families())
        serif = [f for f in _SERIF_FAMILIES if f in families]
        sans = [f for f in _SANS_FAMILIES if f in families] or serif
        if not serif:
            # A configured directory may hold another CJK font: use what it has.
            serif = sorted(families)
            sans = sans or serif
        self.families = {"serif": serif, "sans": sans}
        self.compiler = typst.Compiler(
            input=str(template), root=str(template.parent), font_paths=book
        )
        # The compiler is one mutable Rust object: one render at a time.
        self.lock = threading.Lock()

    def _compile(self, inputs: dict[str, str], timestamp: datetime) -> bytes:
        pdf, warnings = self.compiler.compile_with_warnings(
            format="pdf",
            sys_inputs=inputs,
            pdf_standards=[PDF_STANDARD],
            timestamp=timestamp,
        )
        for warning in warnings:
            log.warning("typst: %s", warning.message)
        if not isinstance(pdf, bytes):
            raise RuntimeError("typst returned no PDF")
        return pdf

    def compile(self, inputs: dict[str, str], timestamp: datetime) -> bytes:
        """The PDF/A-2b of the template for these inputs."""
        with self.lock:
            return self._compile(inputs, timestamp)

    def run(self, inputs: dict[str, str], timestamp: datetime) -> tuple[bytes, list[dict]]:
        """The contract PDF and where its signature boxes are."""
        with self.lock:
            pdf = self._compile(inputs, timestamp)
            # Same inputs, so typst's memoisation reuses the layout just made.
            found = self.compiler.query("<signature-slot>", field="value", format="json")
        return pdf, json.loads(found)


_renderers: dict[tuple[str, ...], _Renderer] = {}
_renderers_lock = threading.Lock()


def _renderer(font_dirs: Sequence[str] | None, template: Path = TEMPLATE) -> _Renderer:
    _check_fork_safety()
    key = (str(template), *(font_dirs or ()))
    with _renderers_lock:
        renderer = _renderers.get(key)
        if renderer is None:
            renderer = _renderers[key] = _Renderer(find_fonts(font_dirs), template)
        return renderer


def template_renderer(template: Path, font_dirs: Sequence[str] | None = None) -> _Renderer:
    """This process's compiler for another typst template (e.g. the evidence report),
    with the same fonts and PDF/A-2b output as the contract."""
    return _renderer(font_dirs, template)


def warm_up(font_dirs: list[str] | None = None) -> None:
    """Load fonts and the compiler now (e.g. in a pool worker's initializer),
    so the first contract does not pay for it; raises FontNotFound early."""
    _renderer(font_dirs).fonts.covers("合")  # parses the character maps


# ─────────────────────────── validation ───────────────────────────


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _validate(doc: ContractDocument, fonts: FontSet) -> None:
    if doc.draft:
        _require(not doc.verification_url, "a draft has no verification URL")
    else:
        _require(bool(doc.contract_no), "a contract that is not a draft needs its contract_no")
        _require(bool(doc.verification_url), "a contract that is not a draft needs its URL")
    _require(bool(doc.sellers), "the contract has no seller")
    _require(bool(doc.buyers), "the contract has no buyer")
    ids = [p.party_id for p in doc.parties]
    _require(len(set(ids)) == len(ids), "party_id values must be unique")
    for party in doc.parties:
        _require(party.role in ROLES, f"unknown role {party.role!r}")
        _require(bool(party.name.strip()), f"party {party.party_id} has no name")
    house, terms = doc.house, doc.terms
    _require(house.structure in STRUCTURES, f"unknown structure {house.structure!r}")
    _require(house.ownership_kind in OWNERSHIP_KINDS, f"unknown ownership {house.ownership_kind!r}")
    _require(house.building_area > 0, "building_area must be positive")
    _require(terms.payment_method in PAYMENT_METHODS, f"unknown method {terms.payment_method!r}")
    _require(terms.taxes_borne_by in TAX_BEARERS, f"unknown tax bearer {terms.taxes_borne_by!r}")
    _require(
        terms.dispute_resolution.method in ("arbitration", "court"),
        f"unknown dispute method {terms.dispute_resolution.method!r}",
    )
    _require(not terms.funds_custody or bool(terms.custody_bank), "custody needs custody_bank")
    # A schedule that does not add up to the price would be a contract
    # contradicting itself; refuse it rather than file it.
    scheduled = sum(i.amount_fen for i in terms.payment_schedule)
    _require(
        not terms.payment_schedule or scheduled == terms.price_fen,
        f"payment schedule totals {scheduled} fen, price is {terms.price_fen} fen",
    )
    for f in fields(doc):
        # ``extra`` is free-form data for other components; only what the
        # template prints from it is checked (below).
        if f.name != "extra":
            ensure_document_renderable(getattr(doc, f.name), fonts, prefix=f.name)
    if "system_name" in doc.extra:
        ensure_renderable(doc.extra["system_name"], "extra['system_name']", fonts)


# ─────────────────────────── template data ───────────────────────────


def _date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _money(fen: int) -> dict[str, str]:
    return {"figures": figures_amount(fen), "capital": capital_amount(fen)}


def _choices(labels: dict[Any, str], chosen: Any) -> list[dict[str, Any]]:
    return [{"label": label, "checked": key == chosen} for key, label in labels.items()]


def _share(party: Party) -> str:
    if party.share_percent is None:
        return "—"
    return f"{party.share_percent:g}%"


def _party(party: Party) -> dict[str, str]:
    return {
        "field": signature_field_name(party.party_id),
        "role": ROLES[party.role],
        "name": party.name,
        "id_number": party.id_number,
        "phone": party.phone,
        "address": party.address,
        "share": _share(party),
    }


def template_data(doc: ContractDocument, families: dict[str, list[str]]) -> dict[str, Any]:
    """Everything the template prints, as display strings (JSON-ready)."""
    house, terms = doc.house, doc.terms
    unit_price_fen = round(terms.price_fen / house.building_area)
    mortgage = terms.mortgage_transfer
    methods = list(PAYMENT_METHODS)
    dispute = terms.dispute_resolution
    city = house.location.city
    return {
        "draft": doc.draft,
        "contract_no": doc.contract_no,
        "subject": doc.contract_no or "草稿",
        "keywords": [doc.contract_no or "草稿", CONTRACT_TITLE],
        "issued_on": _date(doc.issued_on),
        "filing_authority": doc.filing_authority,
        "system_name": doc.extra.get("system_name", f"{city}存量房网上签约备案系统"),
        "fonts": families,
        "sellers": [_party(p) for p in doc.sellers],
        "buyers": [_party(p) for p in doc.buyers],
        "agents": [_party(p) for p in doc.parties if p.role == "agent"],
        "ownership": _choices(OWNERSHIP_KINDS, house.ownership_kind),
        "house": {
            "location": house.location.full(),
            "unit_no": house.unit_no,
            "house_no": house.house_no,
            "certificate_no": house.certificate_no,
            "building_area": f"{house.building_area:.2f}",
            "inner_area": f"{house.inner_area:.2f}",
            "floor": f"第{house.floor}层" if house.floor else "—",
            "total_floors": f"{house.total_floors}层" if house.total_floors else "—",
            "planned_use": house.planned_use,
            "ownership": OWNERSHIP_KINDS[house.ownership_kind],
            "structures": _choices(STRUCTURES, house.structure),
        },
        "price": {**_money(terms.price_fen), "unit_price": figures_amount(unit_price_fen)},
        "payment_methods": _choices(PAYMENT_METHODS, terms.payment_method),
        "payment_method_index": str(methods.index(terms.payment_method) + 1),
        "loan": terms.payment_method != "full",
        "schedule": [
            {
                "no": str(n),
                "date": _date(i.due_date),
                **_money(i.amount_fen),
                "description": i.description,
            }
            for n, i in enumerate(terms.payment_schedule, start=1)
        ],
        "schedule_total": _money(sum(i.amount_fen for i in terms.payment_schedule)),
        "deposit": _money(terms.deposit_fen) if terms.deposit_fen else None,
        "custody": {"chosen": terms.funds_custody, "bank": terms.custody_bank or ""},
        "delivery_date": _date(terms.delivery_date),
        "registration_days": str(terms.registration_within_days),
        "taxes": _choices(TAX_BEARERS, terms.taxes_borne_by),
        "mortgage": (
            {"lender": mortgage.lender, **_money(mortgage.outstanding_fen)} if mortgage else None
        ),
        "late_rate": "万分之" + chinese_number(terms.late_payment_daily_permyriad),
        "termination_days": str(terms.termination_after_days),
        "dispute": {
            "arbitration": dispute.method == "arbitration",
            "institution": dispute.institution,
        },
        "supplementary": [
            line.strip() for line in terms.supplementary_terms.splitlines() if line.strip()
        ],
        "seal_field": SEAL_FIELD_NAME,
    }


# ─────────────────────────── slots ───────────────────────────


def _slots(doc: ContractDocument, found: list[dict]) -> tuple[tuple[SignatureSlot, ...], int]:
    by_field: dict[str, SignatureSlot] = {}
    pages = 0
    for item in found:
        # Typst measures from the top-left corner; PDF from the bottom-left.
        by_field[item["field"]] = SignatureSlot(
            field_name=item["field"],
            page=int(item["page"]),
            x=round(item["x"], 3),
            y=round(item["page-height"] - item["y"] - item["height"], 3),
            width=round(item["width"], 3),
            height=round(item["height"], 3),
        )
        pages = int(item["pages"])
    ordered = sorted(doc.parties, key=lambda p: _PARTY_ORDER.index(p.role))
    wanted = [signature_field_name(p.party_id) for p in ordered] + [SEAL_FIELD_NAME]
    missing = [name for name in wanted if name not in by_field]
    if missing:
        raise RuntimeError(f"template laid out no box for {missing}")
    return tuple(by_field[name] for name in wanted), pages


# ─────────────────────────── entry point ───────────────────────────


def render_contract(doc: ContractDocument, font_dirs: list[str] | None = None) -> RenderedContract:
    """Render the contract PDF (PDF/A-2b) and report where the signature boxes are.

    Raises :class:`~signing.fonts.UnrenderableText` if a text has a character
    the fonts lack, ValueError for an inconsistent document, and
    :class:`~signing.fonts.FontNotFound` if there is no CJK font.
    """
    return render_document(CONTRACT, doc, font_dirs)


def render_document(kind: str, doc: ContractDocument, font_dirs: list[str] | None = None
                    ) -> RenderedContract:
    """Render one document of the sale (:data:`TEMPLATES`) like the contract: PDF/A-2b,
    ``doc.verification_url`` in its QR code, a box for every party and for the seal.

    The funds-custody agreement needs terms that choose funds custody (ValueError).
    """
    template = TEMPLATES.get(kind)
    if template is None:
        raise ValueError(f"unknown document kind {kind!r}")
    renderer = _renderer(font_dirs, template)
    _validate(doc, renderer.fonts)
    _require(kind != FUNDS_CUSTODY_AGREEMENT or doc.terms.funds_custody,
             "a funds-custody agreement needs terms with funds custody")
    data = template_data(doc, renderer.families)
    title = DOCUMENT_TITLES[kind]
    data.update(title=title, keywords=[doc.contract_no or "草稿", title])
    inputs = {
        "data": json.dumps(data, ensure_ascii=False),
        "qr": "" if doc.draft else qr_svg(doc.verification_url, border=0),
    }
    timestamp = datetime.combine(doc.issued_on, time(0), tzinfo=_CHINA_TZ)
    pdf, found = renderer.run(inputs, timestamp)
    slots, pages = _slots(doc, found)
    return RenderedContract(pdf=pdf, slots=slots, page_count=pages)
