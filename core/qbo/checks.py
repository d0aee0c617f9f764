"""The six QBO steps of the setup checklist (core.checks.QBO_STEPS) and the `connection` object of
`ledgerlink status --json`. Each step says what is missing and where to fix it.
"""

from __future__ import annotations

import time

from core.checks import StepResult, done, missing, warning
from core.ledger import tax
from core.qbo import maps, store
from core.qbo.connect import connection_info_of, expiry_notice
from core.qbo.metering import metered_reads
from core.qbo.reference import flagged_maps, is_zero_rate
from core.qbo.sync_currency import currency_problem
from core.text import counted


def _connected(db, now: float) -> StepResult:
    conn = store.load_connection(db)
    if conn is None:
        return missing("qbo_connected", "Not connected to QuickBooks: open Connect (or run `ledgerlink connect`) as a QuickBooks admin.")
    who = conn.company_name or f"company {conn.realm_id}"
    if conn.token_status == "rejected":
        return missing("qbo_connected", f"QuickBooks refused the saved authorization for {who}: reconnect in Connect (or `ledgerlink connect`).")
    notice = expiry_notice(conn.refresh_expires_at, conn.refresh_hard_expires_at, now)
    if notice is not None and notice.expired:
        return missing("qbo_connected", f"{notice.message()} ({who}: reconnect in Connect or `ledgerlink connect`.)")
    if db.execute("SELECT 1 FROM qbo_company WHERE id = 1").fetchone() is None:
        return missing("qbo_connected", f"Connected to {who}, but its reference data was not pulled yet: refresh in Connect (or run `ledgerlink pull`).")
    disagree = _tax_method_problem(db, who)
    if disagree:
        return missing("qbo_connected", disagree)
    currency = currency_problem(db)
    if currency is not None:
        return missing("qbo_connected", currency.render())
    if notice is not None:
        return warning("qbo_connected", f"Connected to {who} ({conn.environment}). {notice.message()} "
                                        "(Connect, or `ledgerlink connect`.)")
    return done("qbo_connected", f"Connected to {who} ({conn.environment}, realm {conn.realm_id}).")


_METHOD_WORDS = {tax.SUBTOTAL: "on the taxable subtotal of each rate", tax.PER_LINE: "line by line"}


def _tax_method_problem(db, who: str) -> str | None:
    """The ledger prices tax by the method of its own country's QBO edition; the connected company must agree."""
    firm = db.execute("SELECT country FROM firm WHERE id = 1").fetchone()
    company = db.execute("SELECT country FROM qbo_company WHERE id = 1").fetchone()
    if not firm or not company or not (company[0] or "").strip():
        return None
    ours = firm[0]
    theirs = "UK" if company[0].strip().upper() == "GB" else company[0].strip().upper()
    if tax.tax_method(ours) == tax.tax_method(theirs):
        return None
    return (f"{who} is a {theirs} QuickBooks company, which works out sales tax "
            f"{_METHOD_WORDS[tax.tax_method(theirs)]}; this {ours} firm works it out "
            f"{_METHOD_WORDS[tax.tax_method(ours)]}, so every taxed total would differ: connect the firm's own "
            f"{ours} company (Connect, or `ledgerlink connect`). Nothing is pushed until they agree.")


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


def metered_reads_of(firm):
    """This month's metered reads of the connected company against the budget (None when not connected)."""
    conn = store.load_connection(firm.db)
    if conn is None:
        return None
    return metered_reads(firm.db, conn.realm_id, firm.settings.sync.metered_reads_budget)


def metered_reads_info(firm) -> dict | None:
    """The `metered_reads` object of `status --json`: {"month", "count", "budget", "warning"} or None."""
    reads = metered_reads_of(firm)
    return reads.as_json() if reads else None


def map_problems(firm) -> tuple:
    """Maps whose QBO reference became inactive or vanished (for the sync engine and the TUI)."""
    return flagged_maps(firm.db)
