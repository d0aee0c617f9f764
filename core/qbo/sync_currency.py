"""The firm's currency against the QBO company's home currency: nothing is pushed while they differ.

The home currency comes with the reference data (Preferences.CurrencyPrefs.HomeCurrency, else
CompanyInfo's CurrencyRef): no extra read. Foreign-currency clients are not supported: every document goes
in the firm's currency, which must be the company's home currency, and carries it as CurrencyRef.
"""

from __future__ import annotations

import json

import sqlite_utils

from core.qbo.reasons import Reason


def home_currency(db: sqlite_utils.Database) -> str | None:
    """The connected company's home currency as pulled, or None before the first pull."""
    row = db.execute("SELECT company_json, preferences_json FROM qbo_company WHERE id = 1").fetchone()
    if row is None:
        return None
    try:
        company, prefs = json.loads(row[0] or "{}"), json.loads(row[1] or "{}")
    except ValueError:
        return None
    home = ((prefs.get("CurrencyPrefs") or {}).get("HomeCurrency") or {}).get("value")
    return home or (company.get("CurrencyRef") or {}).get("value") or None


def currency_problem(db: sqlite_utils.Database) -> Reason | None:
    """A reason when the firm's currency is not the company's home currency (None when they agree or before
    the first pull)."""
    home = home_currency(db)
    firm = db.execute("SELECT currency FROM firm LIMIT 1").fetchone()
    if home is None or firm is None or home.upper() == firm[0].upper():
        return None
    name = db.execute("SELECT company_name FROM qbo_company WHERE id = 1").fetchone()[0]
    return Reason("currency_differs", {"firm_currency": firm[0], "home_currency": home, "company": name})
