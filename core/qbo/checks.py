"""The six QBO steps of the setup checklist (core.checks.QBO_STEPS) and the `connection` object of
`ledgerlink status --json`. Each step says what is missing and where to fix it.
"""

from __future__ import annotations

import time

from core.checks import StepResult, done, missing, warning
from core.qbo import maps, store
from core.qbo.connect import connection_info_of
from core.qbo.reference import flagged_maps, is_zero_rate
from core.qbo.sync_currency import currency_problem
from core.text import counted

REFRESH_WARN_DAYS = 14


def _connected(db, now: float) -> StepResult:
    conn = store.load_connection(db)
    if conn is None:
        return missing("qbo_connected", "Not connected to QuickBooks: open Connect (or run `ledgerlink connect`) as a QuickBooks admin.")
    who = conn.company_name or f"company {conn.realm_id}"
    if conn.token_status == "rejected":
        return missing("qbo_connected", f"QuickBooks refused the saved authorization for {who}: reconnect in Connect (or `ledgerlink connect`).")
    if conn.refresh_expires_at is not None and conn.refresh_expires_at <= now:
        return missing("qbo_connected", f"The QuickBooks authorization for {who} has expired: reconnect in Connect.")
    if db.execute("SELECT 1 FROM qbo_company WHERE id = 1").fetchone() is None:
        return missing("qbo_connected", f"Connected to {who}, but its reference data was not pulled yet: refresh in Connect (or run `ledgerlink pull`).")
    currency = currency_problem(db)
    if currency is not None:
        return missing("qbo_connected", currency.render())
    if conn.refresh_expires_at is not None and conn.refresh_expires_at - now < REFRESH_WARN_DAYS * 86400:
        days = int((conn.refresh_expires_at - now) // 86400)
        when = f"in {counted(days, 'day')}" if days else "within a day"
        return warning("qbo_connected", f"Connected to {who} ({conn.environment}); the authorization expires {when}: reconnect soon in Connect.")
    return done("qbo_connected", f"Connected to {who} ({conn.environment}, realm {conn.realm_id}).")


def _zero_tax(db) -> StepResult:
    if db.execute("SELECT 1 FROM qbo_company WHERE id = 1").fetchone() is None:
        return missing("qbo_zero_tax", "Checked after the reference data is pulled: connect, then refresh in Connect.")
    rows = db.execute("SELECT name, taxable, rate FROM qbo_tax_codes WHERE active = 1 AND present = 1").fetchall()
    zero = [name for name, taxable, rate in rows if is_zero_rate(taxable, rate)]
    if not zero:
        return missing("qbo_zero_tax", "The QuickBooks company has no zero-rate tax code: create a 0% tax code in QuickBooks, then refresh in Connect.")
    return done("qbo_zero_tax", f"Zero-rate tax code in QuickBooks: {zero[0]}.")


def _flag_text(rows) -> str:
    return "; ".join(r.message for r in rows)


def _map_sales(db) -> StepResult:
    rows = maps.list_map(db, "sales")
    good = [r for r in rows if r.status == "mapped"]
    roles = {r.role for r in good}
    wanted = [role for role in ("income", "expense") if role not in roles]
    if wanted:
        need = " and ".join(f"one {w} account" for w in wanted)
        return missing("map_sales", f"Map at least {need} to a QuickBooks Product/Service: open Mapping › Sales invoice account map.")
    broken = [r for r in rows if r.status in ("inactive", "gone")]
    if broken:
        return warning("map_sales", _flag_text(broken))
    return done("map_sales", f"{counted(len(good), 'account')} mapped to Products/Services.")


def _map_all_required(db, kind: str, step: str, what: str) -> StepResult:
    rows = maps.list_map(db, kind)
    required = [r for r in rows if r.required]
    if not required:
        return missing(step, f"There is no {what} in the ledger to map yet: set it up first, then open Mapping › {maps.KIND_TITLES[kind]}.")
    bad = [r for r in required if r.status != "mapped"]
    if bad:
        names = ", ".join(r.ledger_name for r in bad)
        return missing(step, f"Not mapped (or mapped to an inactive or deleted QuickBooks reference): {names}. Open Mapping › {maps.KIND_TITLES[kind]}.")
    broken = [r for r in rows if r.status in ("inactive", "gone") or "will differ" in r.message]
    if broken:
        return warning(step, _flag_text(broken))
    return done(step, f"Every {what} is mapped ({len(required)}).")


def _sync_enabled(db) -> StepResult:
    on, since = store.sync_settings_row(db)
    if not on:
        return missing("sync_enabled", "The Sales invoices synchronisation is off: switch it on in Mapping › Synchronisation (or `ledgerlink sync enable`).")
    return done("sync_enabled", "Sales invoices are synchronised" + (f" from {since}." if since else "."))


def qbo_steps(firm, *, clock=time.time) -> list[StepResult]:
    """The six QBO checklist steps, in order."""
    db = firm.db
    return [
        _connected(db, clock()),
        _zero_tax(db),
        _map_sales(db),
        _map_all_required(db, "gl", "map_gl", "operating bank account"),
        _map_all_required(db, "tax", "map_tax", "ledger tax rate"),
        _sync_enabled(db),
    ]


def connection_info(firm) -> dict | None:
    """The `connection` object of `status --json` (no token values), or None when not connected."""
    conn = store.load_connection(firm.db)
    return connection_info_of(conn).as_json() if conn else None


def map_problems(firm) -> tuple:
    """Maps whose QBO reference became inactive or vanished (for the sync engine and the TUI)."""
    return flagged_maps(firm.db)
