"""One shape for every date lock (core.ledger.periods): the ledger lock date, a trust account's saved
reconciliation and QuickBooks' closing date are all `on_or_before` and a LockedDate with its code and fix."""

from __future__ import annotations

from core.ledger.periods import LockedDate, locked_on, on_or_before
from core.qbo.closing import closed


def test_a_day_is_locked_on_and_before_the_lock_day_only():
    assert on_or_before("2026-01-31", "2026-01-31") and on_or_before("2025-12-31", "2026-01-31")
    assert not on_or_before("2026-02-01", "2026-01-31")
    assert not on_or_before("2026-01-15", None) and not on_or_before("", "2026-01-31")
    assert locked_on("Invoice INV-1", "2026-02-01", "2026-01-31") is None


def test_each_lock_renders_from_its_fields_and_names_its_fix():
    ledger = locked_on("Invoice INV-1", "2026-01-15", "2026-01-31")
    assert ledger == LockedDate("Invoice INV-1", "2026-01-15", "2026-01-31")
    assert ledger.code == "period_locked" and ledger.fix.command == "ledgerlink lock show"
    assert ledger.text().startswith("Invoice INV-1 is dated 2026-01-15, on or before the ledger lock date 2026-01-31")
    trust = locked_on("row 2, column date", "2026-01-31", "2026-01-31", "trust_reconciled", "Trust")
    assert trust is not None and trust.code == "trust_reconciled" and trust.fix.screen == "trust"
    assert trust.text().startswith("row 2, column date: 2026-01-31 is in a reconciled period: Trust is reconciled "
                                   "to 2026-01-31")
    assert trust.as_json() == {"code": "trust_reconciled", "what": "row 2, column date", "date": "2026-01-31",
                               "lock_date": "2026-01-31", "account": "Trust", "fix": trust.fix.as_json()}
    books = closed("2026-03-31", "Invoice INV-3", "2026-03-01")
    assert books is not None and books.kind == "qbo_closed" and books.code == "qbo_books_closed"
    assert "Invoice INV-3 is dated 2026-03-01, on or before the closing date 2026-03-31 set in QuickBooks" in books.text()
    assert closed("2026-03-31", "Invoice INV-4", "2026-04-01") is None and closed(None, "Invoice INV-4", "2020-01-01") is None
