"""The ledger lock date: nothing dated on or before it is posted, edited, deleted or voided.

Only an admin sets or clears it, and every change is written to the audit log. The check runs before a write
(`locked_problems`, `check_open`) and again in `post_entry` for every journal entry, edits' and deletions'
reversals included (they are dated on the document's date); a trigger on journal_entries is the last guard.
A correction of a locked period is a new document dated in the open period.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

from core.errors import ValidationError
from core.ledger.base import audit, firm_row, parse_day, require_role, writes

if TYPE_CHECKING:
    from core.context import Firm


@dataclass(frozen=True)
class LockedDate:
    """A problem as data: `what` is dated `date`, on or before the lock date `lock_date`."""

    what: str
    date: str
    lock_date: str
    code: str = "period_locked"
    fix: str = "ledgerlink lock show"

    def text(self) -> str:
        return (f"{self.what} is dated {self.date}, on or before the ledger lock date {self.lock_date}: nothing "
                f"dated on or before it can be posted, edited, deleted or voided. Post a correction dated after "
                f"{self.lock_date} instead (an admin can move the lock date: ledgerlink lock set DATE)")


class PeriodLocked(ValidationError):
    def __init__(self, locked: LockedDate):
        super().__init__(locked.text())
        self.locked = locked


def lock_date(firm: "Firm") -> str | None:
    row = firm.db.execute("SELECT lock_date FROM firm WHERE id = 1").fetchone()
    return row[0] if row else None


@writes
def set_lock_date(firm: "Firm", date: str | dt.date | None) -> str | None:
    """Lock the ledger up to and including `date` (None: no lock); admin only, audit-logged."""
    require_role(firm, "admin", "set the ledger lock date")
    firm_row(firm)
    new = None if date is None else parse_day(date, "lock date")
    old = lock_date(firm)
    if new != old:
        firm.db.execute("UPDATE firm SET lock_date = ? WHERE id = 1", [new])
        audit(firm, "set_lock_date" if new else "clear_lock_date", "firm", 1,
              f"{old or 'none'} -> {new or 'none'}")
    return new


def locked(firm: "Firm", what: str, date: str) -> LockedDate | None:
    lock = lock_date(firm)
    return LockedDate(what, date, lock) if lock and date and date <= lock else None


def check_open(firm: "Firm", what: str, date: str) -> None:
    """Raise PeriodLocked when `date` is on or before the lock date."""
    found = locked(firm, what, date)
    if found:
        raise PeriodLocked(found)


def locked_problems(firm: "Firm", items: Iterable[tuple[str, str]]) -> list[str]:
    """One sentence per (what, date) dated on or before the lock date (for a bulk write's problem list)."""
    lock = lock_date(firm)
    if not lock:
        return []
    return [LockedDate(what, date, lock).text() for what, date in items if date and date <= lock]
