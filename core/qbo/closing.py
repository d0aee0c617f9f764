"""QBO's closing date (Preferences › AccountingInfoPrefs › BookCloseDate): a document dated on or before it is
refused by QBO (6210), so the sync parks it before sending anything, with a reason naming both dates.

The date comes from the Preferences pulled with the reference data. A document that would park for it makes
the sync read Preferences once in that run (books may have been reopened since the pull), never per document.
"""

from __future__ import annotations

import json

import sqlite_utils

from core.ledger.periods import LockedDate, locked_on
from core.qbo.client import dumps


def close_date_of(preferences: dict | None) -> str | None:
    value = ((preferences or {}).get("AccountingInfoPrefs") or {}).get("BookCloseDate")
    return str(value)[:10] if value else None


def book_close_date(db: sqlite_utils.Database) -> str | None:
    row = db.execute("SELECT preferences_json FROM qbo_company WHERE id = 1").fetchone()
    return close_date_of(json.loads(row[0])) if row else None


def closed(close_date: str | None, label: str, date: str) -> LockedDate | None:
    """The problem (core.ledger.periods' shape, kind 'qbo_closed') when `date` is on or before the closing date."""
    return locked_on(label, date, close_date, "qbo_closed")


async def refresh_close_date(db: sqlite_utils.Database, client) -> str | None:
    """Read Preferences again (one metered call) and keep them in the reference cache."""
    prefs = await client.preferences()
    with db.atomic():
        db.execute("UPDATE qbo_company SET preferences_json = ? WHERE id = 1", [dumps(prefs)])
    return close_date_of(prefs)
