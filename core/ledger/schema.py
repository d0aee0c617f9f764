"""The ledger's tables: STRICT, with CHECK constraints; posted journal rows and the audit log are append-only.

Money is INTEGER minor units of the firm's home currency. Dates are ISO `YYYY-MM-DD` text,
timestamps ISO-8601 UTC text. The tables themselves are created and changed by the numbered steps of
`core.migrations`; this module keeps the names and kinds the code checks against.

Balances are never stored: they are sums over `journal_lines` (beancount's rule).
"""

from __future__ import annotations

import sqlite_utils

ACCOUNT_TYPES = (
    "Bank",
    "Accounts Receivable",
    "Other Current Asset",
    "Fixed Asset",
    "Other Asset",
    "Accounts Payable",
    "Credit Card",
    "Other Current Liability",
    "Long Term Liability",
    "Equity",
    "Income",
    "Other Income",
    "Cost of Goods Sold",
    "Expense",
    "Other Expense",
)
# Types whose balance is normally a debit.
DEBIT_TYPES = frozenset(
    {"Bank", "Accounts Receivable", "Other Current Asset", "Fixed Asset", "Other Asset",
     "Cost of Goods Sold", "Expense", "Other Expense"}
)
# The role an account plays in the ledger, and the types it may have.
SUBTYPES: dict[str, frozenset[str]] = {
    "operating_bank": frozenset({"Bank"}),
    "trust_bank": frozenset({"Bank"}),
    "receivable": frozenset({"Accounts Receivable"}),
    "trust_liability": frozenset({"Other Current Liability"}),
    "fee_income": frozenset({"Income"}),
    "expense_recovery": frozenset({"Income", "Other Income"}),
    "discount": frozenset({"Income"}),
    "sales_tax": frozenset({"Other Current Liability"}),
    "bad_debt": frozenset({"Expense", "Other Expense"}),
    "general": frozenset(ACCOUNT_TYPES),
}
# Types an invoice or credit-note line may post to.
LINE_TYPES = frozenset({"Income", "Other Income"})
