"""The ledger lock date and voids, for the TUI and the CLI (see core.ledger.locks and core.ledger.voids)."""

from __future__ import annotations

from core.ledger.locks import LockedDate, PeriodLocked, check_open, lock_date, set_lock_date
from core.ledger.voids import void_invoice, void_payment

__all__ = ["LockedDate", "PeriodLocked", "check_open", "lock_date", "set_lock_date", "void_invoice", "void_payment"]
