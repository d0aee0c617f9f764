"""Date locks, one shape for all of them: the ledger lock date (core.ledger.locks; checked by post_entry), a
trust account's saved reconciliation (core.ledger.trust) and QuickBooks' closing date (core.qbo.closing).

`on_or_before` is the one comparison; `LockedDate` the problem as data (what, its date, the date locked to,
which lock, the trust account), with its code and fix, rendered into a sentence only by `text()`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Literal

from core.errors import ValidationError
from core.where import Where

if TYPE_CHECKING:
    from core.context import Firm

LockKind = Literal["ledger", "trust_reconciled", "qbo_closed"]
CODES: dict[LockKind, str] = {"ledger": "period_locked", "trust_reconciled": "trust_reconciled",
                              "qbo_closed": "qbo_books_closed"}
FIXES: dict[LockKind, Where] = {
    "ledger": Where("settings", "ledger", "ledgerlink lock show"),
    "trust_reconciled": Where("trust", "reconcile", "ledgerlink trust reconcile"),
    "qbo_closed": Where("quickbooks", "Account and settings", "ledgerlink lock show"),
}
QBO_CLOSE_BOOKS = "QuickBooks: Settings > Account and settings > Advanced > Accounting > Close the books"


def on_or_before(date: str | None, until: str | None) -> bool:
    """True when `date` falls in a period locked up to and including `until` (ISO days; no `until`: no lock)."""
    return bool(until and date and date <= until)


@dataclass(frozen=True)
class LockedDate:
    """A problem as data: `what` is dated `date`, on or before `lock_date`, the day the `kind` of lock holds to
    (`account`: the trust account a reconciliation locks)."""

    what: str
    date: str
    lock_date: str
    kind: LockKind = "ledger"
    account: str | None = None

    @property
    def code(self) -> str:
        return CODES[self.kind]

    @property
    def fix(self) -> Where:
        return FIXES[self.kind]

    def text(self) -> str:
        if self.kind == "trust_reconciled":
            return (f"{self.what}: {self.date} is in a reconciled period: {self.account} is reconciled to "
                    f"{self.lock_date}; only what is dated after {self.lock_date} can change there")
        if self.kind == "qbo_closed":
            return (f"{self.what} is dated {self.date}, on or before the closing date {self.lock_date} set in "
                    f"QuickBooks, which refuses it (the period is closed in QuickBooks): date a correction after "
                    f"{self.lock_date} in the ledger, or have the QuickBooks admin move the closing date "
                    f"({QBO_CLOSE_BOOKS}); it goes with the next sync after that")
        return (f"{self.what} is dated {self.date}, on or before the ledger lock date {self.lock_date}: nothing "
                f"dated on or before it can be posted, edited, deleted or voided. Post a correction dated after "
                f"{self.lock_date} instead (an admin can move the lock date: ledgerlink lock set DATE)")

    def as_json(self) -> dict:
        return {"code": self.code, "what": self.what, "date": self.date, "lock_date": self.lock_date,
                "account": self.account, "fix": self.fix.as_json()}


def locked_on(what: str, date: str | None, until: str | None, kind: LockKind = "ledger",
              account: str | None = None) -> LockedDate | None:
    """The problem when `date` is in the period `until` locks, else None."""
    return LockedDate(what, date or "", until or "", kind, account) if on_or_before(date, until) else None


class PeriodLocked(ValidationError):
    def __init__(self, locked: LockedDate):
        super().__init__(locked.text())
        self.locked = locked


def lock_date(firm: "Firm") -> str | None:
    row = firm.db.execute("SELECT lock_date FROM firm WHERE id = 1").fetchone()
    return row[0] if row else None


def locked(firm: "Firm", what: str, date: str) -> LockedDate | None:
    return locked_on(what, date, lock_date(firm))


def check_open(firm: "Firm", what: str, date: str) -> None:
    """Raise PeriodLocked when `date` is on or before the lock date."""
    found = locked(firm, what, date)
    if found:
        raise PeriodLocked(found)


def locked_problems(firm: "Firm", items: Iterable[tuple[str, str]]) -> list[str]:
    """One sentence per (what, date) dated on or before the lock date (for a bulk write's problem list)."""
    lock = lock_date(firm)
    return [found.text() for what, date in items if (found := locked_on(what, date, lock)) is not None]
