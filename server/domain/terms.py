"""The terms of a second-hand sale, after the national model contract: validated, normalised.

The field names follow :class:`signing.document.Terms`; the contract PDF is
rendered from exactly what this returns.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from server.domain.errors import Problems
from signing.document import PAYMENT_METHODS, TAX_BEARERS

MAX_PRICE_FEN = 10**12  # ten billion yuan: anything above is a typing error
MAX_SUPPLEMENTARY = 2000
MAX_INSTALLMENTS = 12

DEFAULTS: dict[str, Any] = {
    "deposit_fen": 0,
    "funds_custody": False,
    "custody_bank": None,
    "taxes_borne_by": "by_law",
    "mortgage_transfer": None,
    "late_payment_daily_permyriad": 5,
    "termination_after_days": 30,
    "registration_within_days": 30,
    "supplementary_terms": "",
}


def _int(p: Problems, data: dict, key: str, lo: int, hi: int, path: str) -> int | None:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        p.add(path, "必须为整数")
        return None
    if not lo <= value <= hi:
        p.add(path, f"应在{lo}至{hi}之间")
        return None
    return value


def _text(p: Problems, data: dict, key: str, path: str, lo: int, hi: int) -> str | None:
    value = data.get(key)
    if not isinstance(value, str) or len(value.strip()) < lo:
        p.add(path, "必填" if lo else "必须为文本")
        return None
    value = value.strip()
    if len(value) > hi:
        p.add(path, f"长度不能超过{hi}个字符")
        return None
    return value


def _date(p: Problems, value: Any, path: str, today: date) -> date | None:
    if not isinstance(value, str):
        p.add(path, "日期格式应为YYYY-MM-DD")
        return None
    try:
        d = date.fromisoformat(value)
    except ValueError:
        p.add(path, "日期格式应为YYYY-MM-DD")
        return None
    if d < today:
        p.add(path, "日期不能早于今天")
        return None
    return d


def validate_terms(raw: Any, today: date, field: str = "terms") -> dict[str, Any]:
    """Check every term; raise :class:`FieldProblems` naming each bad field. Returns JSON-able."""
    p = Problems()
    if not isinstance(raw, dict):
        p.add(field, "必须为对象")
        p.raise_if_any()
    data = {**DEFAULTS, **raw}
    known = set(DEFAULTS) | {"price_fen", "payment_method", "payment_schedule", "delivery_date",
                             "dispute_resolution"}
    for key in data:
        if key not in known:
            p.add(f"{field}.{key}", "未知字段")
    price = _int(p, data, "price_fen", 1, MAX_PRICE_FEN, f"{field}.price_fen")
    method = data.get("payment_method")
    if not isinstance(method, str) or method not in PAYMENT_METHODS:
        p.add(f"{field}.payment_method", f"可选：{', '.join(PAYMENT_METHODS)}")
    deposit = _int(p, data, "deposit_fen", 0, MAX_PRICE_FEN, f"{field}.deposit_fen")
    if price is not None and deposit is not None and deposit * 5 > price:
        p.add(f"{field}.deposit_fen", "定金不得超过房价款的20%（民法典第586条）")

    schedule_out: list[dict[str, Any]] = []
    schedule = data.get("payment_schedule")
    if not isinstance(schedule, list) or not 1 <= len(schedule) <= MAX_INSTALLMENTS:
        p.add(f"{field}.payment_schedule", f"应为1至{MAX_INSTALLMENTS}期的付款安排")
    else:
        total = 0
        for i, item in enumerate(schedule):
            path = f"{field}.payment_schedule[{i}]"
            if not isinstance(item, dict):
                p.add(path, "必须为对象")
                continue
            amount = _int(p, item, "amount_fen", 1, MAX_PRICE_FEN, f"{path}.amount_fen")
            due = _date(p, item.get("due_date"), f"{path}.due_date", today)
            desc = _text(p, item, "description", f"{path}.description", 1, 100)
            if amount is not None:
                total += amount
            if amount is not None and due is not None and desc is not None:
                schedule_out.append({"due_date": due.isoformat(), "amount_fen": amount,
                                     "description": desc})
        dates = [s["due_date"] for s in schedule_out]
        if dates != sorted(dates):
            p.add(f"{field}.payment_schedule", "付款日期应按先后顺序排列")
        if price is not None and len(schedule_out) == len(schedule) and total != price:
            p.add(f"{field}.payment_schedule", "各期付款金额之和应等于房价款")

    custody = data.get("funds_custody")
    if not isinstance(custody, bool):
        p.add(f"{field}.funds_custody", "必须为true或false")
    bank = None
    if custody is True:
        bank = _text(p, data, "custody_bank", f"{field}.custody_bank", 2, 64)
    delivery = _date(p, data.get("delivery_date"), f"{field}.delivery_date", today)
    taxes = data.get("taxes_borne_by")
    if not isinstance(taxes, str) or taxes not in TAX_BEARERS:
        p.add(f"{field}.taxes_borne_by", f"可选：{', '.join(TAX_BEARERS)}")

    mortgage = data.get("mortgage_transfer")
    mortgage_out = None
    if mortgage is not None:
        if not isinstance(mortgage, dict):
            p.add(f"{field}.mortgage_transfer", "必须为对象或null")
        else:
            lender = _text(p, mortgage, "lender", f"{field}.mortgage_transfer.lender", 2, 64)
            owed = _int(p, mortgage, "outstanding_fen", 0, MAX_PRICE_FEN,
                        f"{field}.mortgage_transfer.outstanding_fen")
            if price is not None and owed is not None and owed > price:
                p.add(f"{field}.mortgage_transfer.outstanding_fen", "剩余贷款不能超过房价款")
            mortgage_out = {"lender": lender, "outstanding_fen": owed}

    rate = _int(p, data, "late_payment_daily_permyriad", 1, 50,
                f"{field}.late_payment_daily_permyriad")
    term_days = _int(p, data, "termination_after_days", 1, 365, f"{field}.termination_after_days")
    reg_days = _int(p, data, "registration_within_days", 1, 180,
                    f"{field}.registration_within_days")

    dispute = data.get("dispute_resolution")
    dispute_out = None
    if not isinstance(dispute, dict):
        p.add(f"{field}.dispute_resolution", "必须为对象：{method, institution}")
    else:
        method_d = dispute.get("method")
        inst = _text(p, dispute, "institution", f"{field}.dispute_resolution.institution", 4, 64)
        if not isinstance(method_d, str) or method_d not in ("arbitration", "court"):
            p.add(f"{field}.dispute_resolution.method", "可选：arbitration, court")
        elif inst is not None:
            suffix = "仲裁委员会" if method_d == "arbitration" else "人民法院"
            if not inst.endswith(suffix):
                p.add(f"{field}.dispute_resolution.institution", f"应为具体的{suffix}名称")
        dispute_out = {"method": method_d, "institution": inst}

    supplementary = data.get("supplementary_terms")
    if not isinstance(supplementary, str):
        p.add(f"{field}.supplementary_terms", "必须为文本")
    elif len(supplementary) > MAX_SUPPLEMENTARY:
        p.add(f"{field}.supplementary_terms", f"长度不能超过{MAX_SUPPLEMENTARY}个字符")
    p.raise_if_any()
    assert delivery is not None
    return {
        "price_fen": price,
        "payment_method": method,
        "payment_schedule": schedule_out,
        "deposit_fen": deposit,
        "funds_custody": custody,
        "custody_bank": bank,
        "delivery_date": delivery.isoformat(),
        "taxes_borne_by": data["taxes_borne_by"],
        "mortgage_transfer": mortgage_out,
        "late_payment_daily_permyriad": rate,
        "termination_after_days": term_days,
        "registration_within_days": reg_days,
        "dispute_resolution": dispute_out,
        "supplementary_terms": supplementary.strip() if isinstance(supplementary, str) else "",
    }


def texts_of(terms: dict[str, Any]) -> dict[str, str]:
    """Free text that will be printed, by field path (for the font-coverage check)."""
    out = {"terms.supplementary_terms": terms["supplementary_terms"],
           "terms.dispute_resolution.institution": terms["dispute_resolution"]["institution"]}
    if terms.get("custody_bank"):
        out["terms.custody_bank"] = terms["custody_bank"]
    if terms.get("mortgage_transfer"):
        out["terms.mortgage_transfer.lender"] = terms["mortgage_transfer"]["lender"]
    for i, item in enumerate(terms["payment_schedule"]):
        out[f"terms.payment_schedule[{i}].description"] = item["description"]
    return out
