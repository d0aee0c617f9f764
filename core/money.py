"""Exact money: integer minor units plus an ISO currency code. Floats are refused."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from core.errors import ValidationError

# Minor-unit exponent per currency (ISO 4217). All Ledgerlink countries use 2.
EXPONENT = {"USD": 2, "CAD": 2, "GBP": 2, "AUD": 2, "NZD": 2, "EUR": 2, "JPY": 0}


def exponent(currency: str) -> int:
    return EXPONENT.get(currency.upper(), 2)


@dataclass(frozen=True, order=True)
class Money:
    minor: int
    currency: str

    def __post_init__(self):
        if isinstance(self.minor, bool) or not isinstance(self.minor, int):
            raise TypeError(f"Money takes integer minor units, not {type(self.minor).__name__}")

    def _same(self, other: "Money") -> None:
        if not isinstance(other, Money):
            raise TypeError("Money only combines with Money")
        if other.currency != self.currency:
            raise ValueError(f"Cannot mix {self.currency} and {other.currency}")

    def __add__(self, other: "Money") -> "Money":
        self._same(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: "Money") -> "Money":
        self._same(other)
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> "Money":
        return Money(-self.minor, self.currency)

    def to_decimal(self) -> Decimal:
        return to_decimal(self.minor, self.currency)

    def __str__(self) -> str:
        return f"{format_minor(self.minor, self.currency)} {self.currency}"


def to_decimal(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-exponent(currency))


def format_minor(minor: int, currency: str, *, grouping: bool = True) -> str:
    exp = exponent(currency)
    value = to_decimal(minor, currency)
    return f"{value:,.{exp}f}" if grouping else f"{value:.{exp}f}"


def parse_amount(text: str | int | Decimal, currency: str, *, field: str = "amount") -> int:
    """User or CSV input to minor units. Refuses floats and more decimals than the currency has."""
    if isinstance(text, float):
        raise TypeError("amounts must not be floats")
    if isinstance(text, int) and not isinstance(text, bool):
        return text * 10 ** exponent(currency)
    raw = str(text).strip().replace(",", "")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValidationError(f"{field}: '{text}' is not a number") from None
    if not value.is_finite():
        raise ValidationError(f"{field}: '{text}' is not a number")
    exp = exponent(currency)
    places = value.as_tuple().exponent  # an int: the value is finite
    if isinstance(places, int) and places < -exp and value != value.quantize(Decimal(1).scaleb(-exp)):
        raise ValidationError(
            f"{field}: {text} has more than {exp} decimal places, which {currency} does not allow"
        )
    return int(value.scaleb(exp).to_integral_value())


def decimal_to_minor(value: Decimal, currency: str, rounding: str = ROUND_HALF_UP) -> int:
    """A computed Decimal (tax, QBO JSON) to minor units with an explicit rounding mode."""
    if isinstance(value, float):
        raise TypeError("amounts must not be floats")
    exp = exponent(currency)
    return int(Decimal(value).scaleb(exp).quantize(Decimal(1), rounding=rounding))
