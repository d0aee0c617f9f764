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


TYPE_SHORT = {"Accounts Receivable": "Receivable", "Accounts Payable": "Payable",
              "Other Current Liability": "Liability", "Other Current Asset": "Current asset",
              "Long Term Liability": "Long-term liab.", "Cost of Goods Sold": "Cost of sales",
              "Other Income": "Other income", "Other Expense": "Other expense"}


def short_type(account_type: str) -> str:
    """An account type short enough for a column at 80 columns (Other Current Liability -> Liability)."""
    return TYPE_SHORT.get(account_type, account_type)


def clipped(text: str, width: int) -> str:
    """`text` cut to `width` characters with an ellipsis when longer."""
    return text if len(text) <= width else text[: width - 1] + "…"
