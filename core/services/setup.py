"""The setup checklist and the `ledgerlink status --json` document (DESIGN.md shapes)."""

from __future__ import annotations

import importlib
import importlib.util

from core.checks import QBO_STEPS, StepResult, missing
from core.ledger.checks import ledger_steps
from core.ledger.queries import firm_exists, get_firm_info
from core.services.context import Firm
from core.where import Where
from core.services import wiring  # noqa: F401  (QBO's client learns how to start the built-in sandbox)


def _qbo_checks():
    try:
        if importlib.util.find_spec("core.qbo.checks") is None:
            return None
    except ModuleNotFoundError:
        return None
    return importlib.import_module("core.qbo.checks")


def checklist(firm: Firm) -> list[StepResult]:
    """Every step of the checklist in core.checks.STEP_IDS order."""
    steps = ledger_steps(firm)
    qbo = _qbo_checks()
    if qbo is not None:
        steps += list(qbo.qbo_steps(firm))
    else:
        steps += [missing(step, "Connect to QuickBooks first", Where("connect")) for step in QBO_STEPS]
    return steps


def queue_counts(firm: Firm) -> dict[str, int]:
    counts = dict.fromkeys(("queued", "sending", "done", "parked"), 0)
    counts.update(dict(firm.db.execute("SELECT state, count(*) FROM sync_queue GROUP BY state").fetchall()))
    return counts


def _waits(firm: Firm) -> list[dict]:
    from core.services.sync import waits

    return waits(firm)


def status_json(firm: Firm) -> dict:
    """{"firm": {...} or null, "steps": [...], "connection": {...} or null, "metered_reads": {"month", "count",
    "budget", "warning"} or null, "queue": {state: n}, "waits": [{"name", "reason", "attempt", "wait_seconds",
    "next_try_at"}] (core.qbo.backoff)}."""
    info = None
    if firm_exists(firm):
        f = get_firm_info(firm)
        info = {"name": f.name, "country": f.country, "currency": f.currency, "method": f.method,
                "accounting_system": f.accounting_system, "fiscal_year_start": f.fiscal_year_start,
                "database": str(firm.settings.db)}
    qbo = _qbo_checks()
    connection = qbo.connection_info(firm) if qbo is not None and hasattr(qbo, "connection_info") else None
    metered = qbo.metered_reads_info(firm) if qbo is not None and hasattr(qbo, "metered_reads_info") else None
    from core.services.integrity import status_fields

    extras = status_fields(firm) if info else {"lock_date": None, "customers_waiting": 0, "restore": None}
    return {
        "firm": info,
        "steps": [step.as_json() for step in checklist(firm)],
        "connection": connection,
        "metered_reads": metered,
        "queue": queue_counts(firm),
        "waits": _waits(firm) if info else [],
        **extras,
    }
