"""The ledger lock date as the journal checks it (core.ledger.base.post_entry): what is locked, and the problem
it gives. Setting the date is core.ledger.locks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

from core.errors import ValidationError

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
