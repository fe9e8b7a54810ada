"""Amount parsing: decimal strings in CNY, at most two decimals, > 0, as integer fen."""
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.kernel.money import InvalidAmount, format_fen, parse_fen, percent_of

pytestmark = pytest.mark.unit


@settings(deadline=None)  # a loaded CI machine must not turn a slow example into a failure
@given(st.integers(min_value=1, max_value=10**12))
def test_format_then_parse_round_trips(fen):
    assert parse_fen(format_fen(fen)) == fen


@settings(deadline=None)  # a loaded CI machine must not turn a slow example into a failure
@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999999999"), places=2,
                   allow_nan=False, allow_infinity=False))
def test_any_two_decimal_amount_parses_exactly(amount):
    assert parse_fen(f"{amount:.2f}") == int(amount * 100)


@settings(deadline=None)  # a loaded CI machine must not turn a slow example into a failure
@given(st.integers(min_value=1, max_value=10**9), st.sampled_from(["", ".0", ".5", ".05", ".50"]))
def test_one_or_two_decimals_or_none(yuan, tail):
    assert parse_fen(f"{yuan}{tail}") == yuan * 100 + (int(tail[1:].ljust(2, "0")) if tail else 0)


@settings(deadline=None)  # a loaded CI machine must not turn a slow example into a failure
@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=999))
def test_three_decimals_are_refused(yuan, thousandths):
    with pytest.raises(InvalidAmount):
        parse_fen(f"{yuan}.{thousandths:03d}")


@settings(deadline=None)  # a loaded CI machine must not turn a slow example into a failure
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_floats_are_refused(value):
    with pytest.raises(InvalidAmount):
        parse_fen(value)


@settings(deadline=None)  # a loaded CI machine must not turn a slow example into a failure
@given(st.text(max_size=12))
def test_arbitrary_text_either_parses_to_a_positive_fen_or_is_refused(text):
    try:
        fen = parse_fen(text)
    except InvalidAmount:
        return
    assert fen > 0 and format_fen(fen) == f"{Decimal(text):.2f}"


@pytest.mark.parametrize("text", ["1e3", "1E3", "0", "0.00", "-1.00", "+1.00", " 1.00", "1.00 ", "1,000.00",
                                  "01.00", ".50", "1.", "NaN", "Infinity", "１００", "1.001", "", "0x10"])
def test_refused_forms(text):
    with pytest.raises(InvalidAmount):
        parse_fen(text)


@settings(deadline=None)  # a loaded CI machine must not turn a slow example into a failure
@given(st.integers(min_value=0, max_value=10**10), st.integers(min_value=0, max_value=10_000))
def test_percent_rounds_half_up(fen, bp):
    exact = Decimal(fen) * bp / 10_000
    assert percent_of(fen, bp) == int(exact.quantize(Decimal("1"), rounding="ROUND_HALF_UP"))
