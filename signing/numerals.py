"""Chinese numerals for contract amounts and counts.

A sale contract states the price twice, in figures and in financial capital
numerals (大写金额), because capitals cannot be altered by adding a stroke:
壹 cannot become 柒 the way 1 can become 7. Banks and the registration office
compare the two, so the capital form must follow the banking convention
exactly, not just be readable.

Convention (中国人民银行《支付结算办法》附件一《正确填写票据和结算凭证的基本规定》),
with the choices we make where the rule allows two forms:

* The amount ends with 元 → write 整 after it (壹佰元整).
* It ends with 角 → the rule allows omitting 整; we omit it (壹佰元伍角).
* It ends with 分 → never 整 (壹佰元零伍分).
* 角 is 0 but 分 is not → 零 after 元 is required (壹佰元零伍分).
* 元位 is 0 but 角 is not → the rule allows 零 or not; we write none (壹佰元伍角).
* Integer part: standard reading rules — zeros at the end of a 4-digit group
  (个/万/亿 级) are not read; any other run of zeros, including a run that
  crosses a group boundary, is read as one 零 (壹仟万零壹佰元整, 壹拾万柒仟元整,
  壹亿零壹元整). The rule allows both 壹拾万柒仟 and 壹拾万零柒仟; we use the reading form.
* A leading 壹拾 keeps its 壹 (壹拾元整), as the rule requires.
* Less than one yuan has no 零元 prefix (伍角, 伍分); zero is 零元整.
"""

from __future__ import annotations

_CAPITAL_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_CAPITAL_POSITIONS = ("", "拾", "佰", "仟")
_LOWER_DIGITS = "零一二三四五六七八九"
_LOWER_POSITIONS = ("", "十", "百", "千")
_GROUP_UNITS = ("", "万", "亿")

# 万亿 needs a different group-unit rule (壹万零壹亿); no house costs that much,
# so such an amount is treated as a data error rather than silently misread.
_MAX_YUAN = 10**12 - 1


def _check_non_negative_int(value: object, what: str) -> int:
    # bool is an int subclass; True fen is certainly a bug upstream.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what} must be an int, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{what} must not be negative, got {value}")
    return value


def _integer_words(number: int, digits: str, positions: tuple[str, ...]) -> str:
    """Spell a positive integer below 10**12 with the 零 reading rules."""
    groups: list[int] = []
    while number:
        groups.append(number % 10_000)
        number //= 10_000
    out: list[str] = []
    zero_pending = False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            # A whole empty group sits between non-zero digits (or is trailing,
            # in which case no digit follows and the pending 零 is dropped).
            zero_pending = True
            continue
        for pos in range(3, -1, -1):
            digit = group // 10**pos % 10
            if digit == 0:
                if out:
                    zero_pending = True
                continue
            if zero_pending:
                out.append(digits[0])
                zero_pending = False
            out.append(digits[digit] + positions[pos])
        # Zeros at the end of a group are not read.
        zero_pending = False
        out.append(_GROUP_UNITS[index])
    return "".join(out)


def capital_amount(fen: int) -> str:
    """Amount in fen as Chinese financial capitals, e.g. 123456700 → 壹佰贰拾叁万肆仟伍佰陆拾柒元整.

    Raises ValueError for a negative amount, a non-int (floats carry rounding
    errors into money), or an amount of 1 万亿 yuan or more.
    """
    _check_non_negative_int(fen, "amount in fen")
    yuan, cents = divmod(fen, 100)
    jiao, fen_digit = divmod(cents, 10)
    if yuan > _MAX_YUAN:
        raise ValueError(f"amount too large: {fen} fen")
    if fen == 0:
        return "零元整"
    parts: list[str] = []
    if yuan:
        parts.append(_integer_words(yuan, _CAPITAL_DIGITS, _CAPITAL_POSITIONS) + "元")
    if jiao:
        parts.append(_CAPITAL_DIGITS[jiao] + "角")
    if fen_digit:
        if yuan and not jiao:
            parts.append("零")
        parts.append(_CAPITAL_DIGITS[fen_digit] + "分")
    if not jiao and not fen_digit:
        parts.append("整")
    return "".join(parts)


def chinese_number(number: int) -> str:
    """A count in lowercase Chinese numerals, e.g. 5 → 五, 15 → 十五, 105 → 一百零五.

    Used for rates written in words (每日万分之五): the font has no ‱ sign, and
    contracts spell rates out anyway. A leading 一十 is shortened to 十, as
    in ordinary writing (unlike the capitals, where 壹拾 is required).
    """
    _check_non_negative_int(number, "number")
    if number > _MAX_YUAN:
        raise ValueError(f"number too large: {number}")
    if number == 0:
        return _LOWER_DIGITS[0]
    words = _integer_words(number, _LOWER_DIGITS, _LOWER_POSITIONS)
    if words.startswith("一十"):
        words = words[1:]
    return words


def figures_amount(fen: int) -> str:
    """Amount in fen as figures with thousands separators: 123456700 → 1,234,567.00."""
    _check_non_negative_int(fen, "amount in fen")
    yuan, cents = divmod(fen, 100)
    return f"{yuan:,}.{cents:02d}"
