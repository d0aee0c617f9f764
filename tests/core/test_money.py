from decimal import Decimal

import pytest

from core.errors import ValidationError
from core.money import Money, decimal_to_minor, format_minor, parse_amount


def test_parse_amount_exact():
    assert parse_amount("1,234.50", "USD") == 123450
    assert parse_amount("0.1", "GBP") == 10
    assert parse_amount(Decimal("2.30"), "AUD") == 230


def test_parse_amount_refuses_extra_decimals_and_floats():
    with pytest.raises(ValidationError, match="more than 2 decimal places"):
        parse_amount("1.005", "USD", field="unit price")
    with pytest.raises(ValidationError, match="not a number"):
        parse_amount("ten", "USD")
    with pytest.raises(TypeError):
        parse_amount(1.5, "USD")


def test_money_refuses_floats_and_mixed_currency():
    with pytest.raises(TypeError):
        Money(1.5, "USD")
    with pytest.raises(ValueError):
        Money(1, "USD") + Money(1, "CAD")
    assert str(Money(123456, "USD")) == "1,234.56 USD"


def test_decimal_to_minor_rounds_half_up():
    assert decimal_to_minor(Decimal("0.125"), "USD") == 13
    assert format_minor(-5, "USD") == "-0.05"
