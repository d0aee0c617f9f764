"""What `status` adds for the protocol: the ledger lock date, the clients waiting for a customer decision, and
whether this firm database looks restored or copied (its record of QBO behind what QBO holds)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.ledger.base import currency
from core.ledger.locks import lock_date
from core.qbo.customers import identities
from core.qbo.replay import restore_summary

if TYPE_CHECKING:
    from core.services.context import Firm


def status_fields(firm: "Firm") -> dict:
    """{"lock_date": str or null, "customers_waiting": n, "restore": null or {"suspected", "signs", "examples",
    "message"}}."""
    waiting = sum(1 for i in identities(firm.db, currency(firm)) if i.state == "proposed")
    return {"lock_date": lock_date(firm), "customers_waiting": waiting, "restore": restore_summary(firm.db)}
