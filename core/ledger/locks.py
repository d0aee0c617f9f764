"""The ledger lock date: nothing dated on or before it is posted, edited, deleted or voided.

Only an admin sets or clears it, and every change is written to the audit log. The check runs before a write
(`locked_problems`, `check_open`) and again in `post_entry` for every journal entry, edits' and deletions'
reversals included (they are dated on the document's date); a trigger on journal_entries is the last guard.
A correction of a locked period is a new document dated in the open period.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from core.ledger.base import audit, firm_row, parse_day, require_role, writes
from core.ledger.periods import LockedDate, PeriodLocked, check_open, lock_date, locked, locked_problems

__all__ = ["LockedDate", "PeriodLocked", "check_open", "lock_date", "locked", "locked_problems", "set_lock_date"]

if TYPE_CHECKING:
    from core.context import Firm


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
