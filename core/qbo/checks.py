"""The six QBO steps of the setup checklist (core.checks.QBO_STEPS) and the `connection` object of
`ledgerlink status --json`. Each step says what is missing and where it is fixed (a Where: screen, tab, command,
and for a map the first row to fix).
"""

from __future__ import annotations

import time
from dataclasses import replace

from core.checks import StepResult, done, missing, warning
from core.ledger import tax
from core.qbo import maps, store
from core.qbo.connect import connection_info_of, expiry_notice
from core.qbo.metering import metered_reads
from core.qbo.reference import flagged_maps, is_zero_rate
from core.qbo.sync_currency import currency_problem
from core.text import counted
from core.where import Where


CONNECT = Where("connect", command="ledgerlink connect")
PULL = Where("connect", command="ledgerlink pull")


def _connected(db, now: float) -> StepResult:
    conn = store.load_connection(db)
    if conn is None:
        return missing("qbo_connected", "Not connected to QuickBooks: connect as a QuickBooks admin", CONNECT)
    who = conn.company_name or f"company {conn.realm_id}"
    if conn.token_status == "rejected":
        return missing("qbo_connected", f"QuickBooks refused the saved authorization for {who}: reconnect", CONNECT)
    notice = expiry_notice(conn.refresh_expires_at, conn.refresh_hard_expires_at, now)
    if notice is not None and notice.expired:
        return missing("qbo_connected", f"{notice.message().rstrip('.')} ({who}): reconnect", CONNECT)
    if db.execute("SELECT 1 FROM qbo_company WHERE id = 1").fetchone() is None:
        return missing("qbo_connected", f"Connected to {who}, but its reference data was not pulled yet: refresh it",
                       PULL)
    currency = currency_problem(db)
    if currency is not None:
        return missing("qbo_connected", currency.render(), currency.fix)
    disagree = _tax_method_problem(db, who)
    if disagree:
        return missing("qbo_connected", disagree, CONNECT)
    if notice is not None:
        return warning("qbo_connected", f"Connected to {who} ({conn.environment}). {notice.message()}", CONNECT)
    return done("qbo_connected", f"Connected to {who} ({conn.environment}, realm {conn.realm_id}).", CONNECT)


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
            f"{ours} company; nothing is pushed until they agree")


def _zero_tax(db) -> StepResult:
    if db.execute("SELECT 1 FROM qbo_company WHERE id = 1").fetchone() is None:
        return missing("qbo_zero_tax", "Checked after the reference data is pulled: connect, then refresh", PULL)
    rows = db.execute("SELECT name, taxable, rate FROM qbo_tax_codes WHERE active = 1 AND present = 1").fetchall()
    zero = [name for name, taxable, rate in rows if is_zero_rate(taxable, rate)]
    if not zero:
        return missing("qbo_zero_tax", "The QuickBooks company has no zero-rate tax code: create a 0% tax code in "
                       "QuickBooks, then refresh", PULL)
    return done("qbo_zero_tax", f"Zero-rate tax code in QuickBooks: {zero[0]}.", PULL)


def _flag_text(rows) -> str:
    return "; ".join(r.message for r in rows)


NAMES_SHOWN = 6
NONE_YET = {"sales": "fee-income or expense-recovery account", "gl": "operating bank account",
            "tax": "ledger tax rate"}
EVERY = {"sales": "fee-income and expense-recovery account, and every account a waiting document uses,",
         "gl": "operating bank account, and every account a waiting document uses,",
         "tax": "ledger tax rate"}
WAITING = ("queued", "sending", "parked")


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:NAMES_SHOWN])
    return shown + (f" and {len(names) - NAMES_SHOWN} more" if len(names) > NAMES_SHOWN else "")


def _queued_uses(db) -> dict[str, set[int]]:
    """The accounts and tax rates that documents waiting for QBO use: {'sales': account ids, 'gl': account ids,
    'tax': tax rate ids} (the current version of each queued invoice, credit note and payment)."""
    uses: dict[str, set[int]] = {"sales": set(), "gl": set(), "tax": set()}
    marks = ", ".join("?" for _ in WAITING)
    waiting = f"SELECT doc_id FROM sync_queue WHERE action = 'upsert' AND state IN ({marks}) AND doc_type = ?"
    rows = db.execute(
        f"SELECT l.account_id, l.tax_rate_id FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id "
        f"AND l.version = i.version WHERE i.id IN ({waiting})", [*WAITING, "invoice"]).fetchall()
    rows += db.execute(
        f"SELECT l.account_id, l.tax_rate_id FROM credit_note_lines l JOIN credit_notes c ON c.id = l.credit_note_id "
        f"AND l.version = c.version WHERE c.id IN ({waiting})", [*WAITING, "credit_note"]).fetchall()
    bad_debt = {r[0] for r in db.execute("SELECT id FROM accounts WHERE subtype = 'bad_debt'")}
    for account_id, tax_rate_id in rows:
        uses["gl" if account_id in bad_debt else "sales"].add(account_id)  # a write-off posts to the GL-mapped account
        if tax_rate_id is not None:
            uses["tax"].add(tax_rate_id)
    uses["gl"] |= {r[0] for r in db.execute(
        f"SELECT b.gl_account_id FROM payments p JOIN bank_accounts b ON b.id = p.bank_account_id "
        f"WHERE p.id IN ({waiting})", [*WAITING, "payment"])}
    return uses


def _ledger_names(db, kind: str, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    marks = ", ".join("?" for _ in ids)
    sql = (f"SELECT id, name FROM tax_rates WHERE id IN ({marks})" if kind == "tax"
           else f"SELECT id, code || ' ' || name FROM accounts WHERE id IN ({marks})")
    return dict(db.execute(sql, list(ids)).fetchall())


def _map_truth(db, kind: str, step: str, what: str, uses: dict[str, set[int]]) -> StepResult:
    """Done only when every item a waiting or future document can use is mapped to a usable QBO reference; `warn`
    when a map lets documents through with a known difference (a tax rate that differs)."""
    rows = maps.list_map(db, kind)
    needed = [r for r in rows if r.required or (kind == "sales" and r.role in ("income", "expense"))]
    listed = {r.ledger_id for r in rows}
    where = Where("mapping", kind, f"ledgerlink map suggest {kind} --apply")
    if not needed and not uses[kind]:
        return missing(step, f"There is no {NONE_YET[kind]} in the ledger to map yet: set it up first", where)
    queued = uses[kind]
    needed_ids = {r.ledger_id for r in needed}
    bad = [r for r in rows if (r.ledger_id in needed_ids or r.ledger_id in queued) and r.status != "mapped"]
    gone = _ledger_names(db, kind, queued - listed)  # used by a waiting document but inactive in the ledger
    if bad or gone:
        names = [(r.ledger_key + " " + r.ledger_name if kind != "tax" else r.ledger_name)
                 + (" (used by waiting documents)" if r.ledger_id in queued else "") for r in bad]
        names += [f"{name} (inactive in the ledger, used by waiting documents)" for name in gone.values()]
        how = "not mapped, or mapped to an inactive or deleted QuickBooks reference"
        return missing(step, f"{counted(len(names), what)} {how}: {_names(names)}",
                       replace(where, row=bad[0].ledger_id) if bad else where)
    items = {i.ledger_id: i for i in maps.ledger_items(db, kind)}
    refs = {r.qbo_id: r for r in maps.qbo_refs(db, kind)}
    noted = [r for r in rows if r.status == "mapped" and r.qbo_id is not None
             and maps.pair_note(kind, items[r.ledger_id], refs.get(r.qbo_id))]
    if noted:
        return warning(step, _flag_text(noted), replace(where, row=noted[0].ledger_id))
    return done(step, f"Every {EVERY[kind]} is mapped ({len(needed_ids | (queued & listed))}).", where)


def _sync_enabled(db) -> StepResult:
    on, since = store.sync_settings_row(db)
    where = Where("mapping", "sync", "ledgerlink sync enable")
    if not on:
        return missing("sync_enabled", "The Sales invoices synchronisation is off: switch it on", where)
    return done("sync_enabled", "Sales invoices are synchronised" + (f" from {since}." if since else "."), where)


def qbo_steps(firm, *, clock=time.time) -> list[StepResult]:
    """The six QBO checklist steps, in order."""
    db = firm.db
    uses = _queued_uses(db)
    return [
        _connected(db, clock()),
        _zero_tax(db),
        _map_truth(db, "sales", "map_sales", "account", uses),
        _map_truth(db, "gl", "map_gl", "account", uses),
        _map_truth(db, "tax", "map_tax", "ledger tax rate", uses),
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


def doc_unmapped(firm, doc_type: str, doc_id: int) -> list[tuple[str, int]]:
    """(map kind, ledger id) of every account, bank account or tax rate the current version of one document uses
    that is not mapped to a usable QuickBooks reference, in the order the sync meets them (for "go to fix")."""
    db = firm.db
    if doc_type == "payment":
        rows = db.execute("SELECT 'gl', b.gl_account_id FROM payments p JOIN bank_accounts b "
                          "ON b.id = p.bank_account_id WHERE p.id = ?", [doc_id]).fetchall()
    else:
        table, lines, key = (("invoices", "invoice_lines", "invoice_id") if doc_type == "invoice"
                             else ("credit_notes", "credit_note_lines", "credit_note_id"))
        bad_debt = {r[0] for r in db.execute("SELECT id FROM accounts WHERE subtype = 'bad_debt'")}
        rows = []
        for account_id, tax_rate_id in db.execute(
                f"SELECT l.account_id, l.tax_rate_id FROM {lines} l JOIN {table} d ON d.id = l.{key} "
                f"AND l.version = d.version WHERE d.id = ? ORDER BY l.line_no", [doc_id]).fetchall():
            rows.append(("gl" if account_id in bad_debt else "sales", account_id))
            if tax_rate_id is not None:
                rows.append(("tax", tax_rate_id))
    status = {kind: {r.ledger_id: r.status for r in maps.list_map(db, kind)} for kind in {k for k, _ in rows}}
    out: list[tuple[str, int]] = []
    for kind, ledger_id in rows:
        if status[kind].get(ledger_id) != "mapped" and (kind, ledger_id) not in out:
            out.append((kind, ledger_id))
    return out


def tax_code_rates(firm) -> dict[str, str]:
    """QBO tax code id -> its rate as shown to a bookkeeper ('10%', '0%'), for the tax map's lists."""
    from decimal import Decimal

    out = {}
    for ref in maps.qbo_refs(firm.db, "tax"):
        if ref.rate is not None:
            out[ref.qbo_id] = format(Decimal(ref.rate).normalize(), "f") + "%"
    return out
