"""QBO's closing date (Preferences › AccountingInfoPrefs › BookCloseDate): a document dated on or before it is
refused by QBO (6210), so the sync parks it before sending anything, with a reason naming both dates.

The date comes from the Preferences pulled with the reference data. A document that would park for it makes
the sync read Preferences once in that run (books may have been reopened since the pull), never per document.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import sqlite_utils

from core.qbo.client import dumps


@dataclass(frozen=True)
class BooksClosed:
    label: str
    date: str
    close_date: str
    code: str = "qbo_books_closed"
    where: str = "QuickBooks: Settings > Account and settings > Advanced > Accounting > Close the books"

    def text(self) -> str:
        return (f"{self.label} is dated {self.date}, on or before the closing date {self.close_date} set in "
                f"QuickBooks, which refuses it (the period is closed in QuickBooks): date a correction after "
                f"{self.close_date} in the ledger, or have the QuickBooks admin move the closing date ({self.where}); "
                "it goes with the next sync after that")

    def as_json(self) -> dict:
        return {"code": self.code, "label": self.label, "date": self.date, "close_date": self.close_date,
                "where": self.where}


def close_date_of(preferences: dict | None) -> str | None:
    value = ((preferences or {}).get("AccountingInfoPrefs") or {}).get("BookCloseDate")
    return str(value)[:10] if value else None


def book_close_date(db: sqlite_utils.Database) -> str | None:
    row = db.execute("SELECT preferences_json FROM qbo_company WHERE id = 1").fetchone()
    return close_date_of(json.loads(row[0])) if row else None


def closed(close_date: str | None, label: str, date: str) -> BooksClosed | None:
    return BooksClosed(label, date, close_date) if close_date and date and date <= close_date else None


async def refresh_close_date(db: sqlite_utils.Database, client) -> str | None:
    """Read Preferences again (one metered call) and keep them in the reference cache."""
    prefs = await client.preferences()
    with db.atomic():
        db.execute("UPDATE qbo_company SET preferences_json = ? WHERE id = 1", [dumps(prefs)])
    return close_date_of(prefs)
