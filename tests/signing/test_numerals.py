"""Capital numerals are compared by banks and the registry; every case here is hand-checked."""

import pytest

from signing.numerals import capital_amount, chinese_number, figures_amount

CASES = [
    (0, "零元整"),
    (1, "壹分"),
    (10, "壹角"),
    (11, "壹角壹分"),
    (100, "壹元整"),
    (105, "壹元零伍分"),
    (150, "壹元伍角"),
    (1000, "壹拾元整"),
    (1100, "壹拾壹元整"),
    (10000, "壹佰元整"),
    (10005, "壹佰元零伍分"),
    (10050, "壹佰元伍角"),
    (10055, "壹佰元伍角伍分"),
    (10100, "壹佰零壹元整"),
    (11000, "壹佰壹拾元整"),
    (100100, "壹仟零壹元整"),
    (101000, "壹仟零壹拾元整"),
    # Examples of the PBOC rule text (where it allows two forms, our chosen one).
    (140950, "壹仟肆佰零玖元伍角"),
    (600714, "陆仟零柒元壹角肆分"),
    (168032, "壹仟陆佰捌拾元叁角贰分"),
    (10700053, "壹拾万柒仟元伍角叁分"),
    (1640902, "壹万陆仟肆佰零玖元零贰分"),
    (32504, "叁佰贰拾伍元零肆分"),
    # Zeros inside and across the 万 group.
    (1000000, "壹万元整"),
    (1000100, "壹万零壹元整"),
    (1001000, "壹万零壹拾元整"),
    (1010000, "壹万零壹佰元整"),
    (1100000, "壹万壹仟元整"),
    (10100000, "壹拾万壹仟元整"),
    (10010000, "壹拾万零壹佰元整"),
    (30000305, "叁拾万零叁元零伍分"),
    (2000050, "贰万元伍角"),
    (2000001, "贰万元零壹分"),
    (100000000, "壹佰万元整"),
    (100010000, "壹佰万零壹佰元整"),
    (123456700, "壹佰贰拾叁万肆仟伍佰陆拾柒元整"),
    (1234567801, "壹仟贰佰叁拾肆万伍仟陆佰柒拾捌元零壹分"),
    (1000000000, "壹仟万元整"),
    (1000010000, "壹仟万零壹佰元整"),
    (5000000000, "伍仟万元整"),
    # Across 亿.
    (10000000000, "壹亿元整"),
    (10000000100, "壹亿零壹元整"),
    (10001000000, "壹亿零壹万元整"),
    (10010000000, "壹亿零壹拾万元整"),
    (11000000000, "壹亿壹仟万元整"),
    (100000000000, "壹拾亿元整"),
    (101000000000, "壹拾亿壹仟万元整"),
    (100100000000, "壹拾亿零壹佰万元整"),
    (100000000001, "壹拾亿元零壹分"),
    (
        99999999999999,
        "玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分",
    ),
]


@pytest.mark.parametrize(("fen", "expected"), CASES)
def test_capital_amount(fen: int, expected: str) -> None:
    assert capital_amount(fen) == expected


@pytest.mark.parametrize("bad", [-1, -100, 1.0, 100.5, "100", None, True, 10**14])
def test_capital_amount_rejects(bad: object) -> None:
    with pytest.raises(ValueError):
        capital_amount(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (0, "零"),
        (5, "五"),
        (10, "十"),
        (15, "十五"),
        (20, "二十"),
        (100, "一百"),
        (105, "一百零五"),
        (110, "一百一十"),
        (1000, "一千"),
        (10000, "一万"),
        (10005, "一万零五"),
        (100000, "十万"),
    ],
)
def test_chinese_number(number: int, expected: str) -> None:
    assert chinese_number(number) == expected


@pytest.mark.parametrize(
    ("fen", "expected"),
    [(0, "0.00"), (5, "0.05"), (123456700, "1,234,567.00"), (1234567801, "12,345,678.01")],
)
def test_figures_amount(fen: int, expected: str) -> None:
    assert figures_amount(fen) == expected


def test_figures_amount_rejects_negative() -> None:
    with pytest.raises(ValueError):
        figures_amount(-1)
