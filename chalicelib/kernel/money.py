"""Money as integer fen; amounts travel as decimal strings in CNY ("1234.50").

Floats never enter: a JSON number is refused by the schema before it reaches
here, and exponent forms ("1e3"), signs, spaces and more than two decimals are
refused by the grammar below.
"""
from __future__ import annotations

import re

_AMOUNT = re.compile(r"(0|[1-9][0-9]{0,11})(?:\.([0-9]{1,2}))?")


class InvalidAmount(ValueError):
    """The text is not a positive CNY amount with at most two decimals."""


def parse_fen(text: str) -> int:
    """``"1234.5"`` → 123450. Raises ``InvalidAmount`` (message in Chinese) for anything else."""
    if not isinstance(text, str):
        raise InvalidAmount("金额应为文本形式的数字，例如 \"1234.50\"")
    match = _AMOUNT.fullmatch(text)
    if not match:
        raise InvalidAmount("金额格式不正确，应为最多两位小数的数字，例如 \"1234.50\"")
    yuan, cents = match.group(1), (match.group(2) or "").ljust(2, "0")
    fen = int(yuan) * 100 + int(cents)
    if fen <= 0:
        raise InvalidAmount("金额必须大于 0")
    return fen


def format_fen(fen: int) -> str:
    """123450 → ``"1234.50"`` (always two decimals)."""
    sign = "-" if fen < 0 else ""
    fen = abs(int(fen))
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def percent_of(fen: int, basis_points: int) -> int:
    """``fen × basis_points / 10000`` rounded half up to a whole fen (integer arithmetic only)."""
    return (fen * basis_points * 2 + 10_000) // 20_000
