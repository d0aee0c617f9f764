"""Showing amounts: integer minor units to text (all of Ledgerlink's currencies have two decimals)."""

from __future__ import annotations


def money_text(minor: int) -> str:
    """12345 -> '123.45', -5 -> '-0.05' (integer arithmetic, never float)."""
    sign = "-" if minor < 0 else ""
    units, cents = divmod(abs(minor), 100)
    return f"{sign}{units:,}.{cents:02d}"


def plain_amount(minor: int) -> str:
    """An amount as a bookkeeper would type it back: 12345 -> '123.45' (no thousands separator)."""
    return money_text(minor).replace(",", "")
