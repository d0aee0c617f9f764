"""The ledger's read side: frozen dataclasses from core.ledger.models, never sqlite rows.

Balances (open balance of an invoice, trust balance of a client, the trial balance) are sums of
journal postings, never stored.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Iterable

from core.errors import NotFound
from core.ledger.base import firm_row, format_quantity, format_rate, get_row
from core.ledger.models import (
    AGING_BUCKETS,
    Account,
    Aging,
    AgingRow,
    Allocation,
    AuditEntry,
    BankAccount,
    ClientCredit,
    Contact,
    CreditNote,
    CreditNoteLine,
    FirmInfo,
    Invoice,
    InvoiceLine,
    InvoiceSummary,
    Matter,
    Payment,
    TaxAdjustment,
    TaxComponent,
    TaxLineFigure,
    TaxRate,
    TrialBalance,
    TrialBalanceRow,
    TrustBalance,
    TrustLedger,
    TrustTransaction,
    User,
)
from core.ledger.schema import DEBIT_TYPES
from core.ledger.tax import compute, load_components, tax_method

if TYPE_CHECKING:
    from core.context import Firm


def firm_exists(firm: "Firm") -> bool:
    return firm.db.execute("SELECT count(*) FROM firm").fetchone()[0] == 1


def get_firm_info(firm: "Firm") -> FirmInfo:
    row = firm_row(firm)
    previews = {r[0]: bool(r[1]) for r in firm.db.execute("SELECT name, enabled FROM feature_previews")}
    return FirmInfo(
        name=row["name"], country=row["country"], currency=row["currency"],
        accounting_system=row["accounting_system"], method=row["method"],
        fiscal_year_start=row["fiscal_year_start"], chart_template=row["chart_template"],
        no_client_money=bool(row["no_client_money"]), feature_previews=previews,
        created_at=row["created_at"], created_by=row["created_by"],
    )


def _account(r: dict) -> Account:
    return Account(r["id"], r["code"], r["name"], r["type"], r["subtype"], bool(r["active"]))


def list_accounts(firm: "Firm", *, types: Iterable[str] | None = None, subtypes: Iterable[str] | None = None,
                  active_only: bool = False) -> list[Account]:
    sql, params = "SELECT * FROM accounts WHERE 1", []
    if types is not None:
        types = list(types)
        sql += f" AND type IN ({','.join('?' * len(types))})"
        params += types
    if subtypes is not None:
        subtypes = list(subtypes)
        sql += f" AND subtype IN ({','.join('?' * len(subtypes))})"
        params += subtypes
    if active_only:
        sql += " AND active = 1"
    return [_account(r) for r in firm.db.query(sql + " ORDER BY code", params)]


def get_account(firm: "Firm", account_id: int) -> Account:
    return _account(get_row(firm, "accounts", account_id, "account"))


def get_account_by_code(firm: "Firm", code: str) -> Account:
    rows = list(firm.db.query("SELECT * FROM accounts WHERE code = ?", [str(code).strip()]))
    if not rows:
        raise NotFound(f"There is no account with code {code}")
    return _account(rows[0])


def _components(firm: "Firm", rate_id: int | None = None) -> dict[int, tuple[TaxComponent, ...]]:
    params: list = []
    sql = "SELECT * FROM tax_rate_components"
    if rate_id is not None:
        sql += " WHERE tax_rate_id = ?"
        params.append(rate_id)
    out: dict[int, list[TaxComponent]] = {}
    for r in firm.db.query(sql + " ORDER BY tax_rate_id, seq", params):
        out.setdefault(r["tax_rate_id"], []).append(
            TaxComponent(r["id"], r["name"], format_rate(r["rate_ppm"]), r["rate_ppm"], r["tax_account_id"]))
    return {k: tuple(v) for k, v in out.items()}


def _tax_rate(r: dict, components: dict) -> TaxRate:
    return TaxRate(r["id"], r["name"], format_rate(r["rate_ppm"]), r["rate_ppm"], bool(r["exempt"]),
                   r["tax_account_id"], bool(r["active"]), components.get(r["id"], ()))


def list_tax_rates(firm: "Firm", *, active_only: bool = False) -> list[TaxRate]:
    sql = "SELECT * FROM tax_rates" + (" WHERE active = 1" if active_only else "") + " ORDER BY id"
    components = _components(firm)
    return [_tax_rate(r, components) for r in firm.db.query(sql)]


def get_tax_rate(firm: "Firm", tax_rate_id: int) -> TaxRate:
    return _tax_rate(get_row(firm, "tax_rates", tax_rate_id, "tax rate"), _components(firm, tax_rate_id))


def _contact(r: dict) -> Contact:
    return Contact(r["id"], r["name"], r["kind"], r["email"], r["phone"], r["address"], bool(r["active"]))


def list_contacts(firm: "Firm", kind: str | None = None) -> list[Contact]:
    if kind:
        return [_contact(r) for r in firm.db.query("SELECT * FROM contacts WHERE kind = ? ORDER BY name", [kind])]
    return [_contact(r) for r in firm.db.query("SELECT * FROM contacts ORDER BY kind, name")]


def list_clients(firm: "Firm") -> list[Contact]:
    return list_contacts(firm, "client")


def get_contact(firm: "Firm", contact_id: int) -> Contact:
    return _contact(get_row(firm, "contacts", contact_id, "contact"))


def get_client(firm: "Firm", client_id: int) -> Contact:
    contact = get_contact(firm, client_id)
    if contact.kind != "client":
        raise NotFound(f"Contact {contact.name} is a {contact.kind} contact, not a client")
    return contact


def _matter(r: dict) -> Matter:
    return Matter(r["id"], r["client_id"], r["reference"], r["name"], bool(r["open"]))


def list_matters(firm: "Firm", client_id: int | None = None) -> list[Matter]:
    if client_id is None:
        return [_matter(r) for r in firm.db.query("SELECT * FROM matters ORDER BY reference")]
    return [_matter(r) for r in firm.db.query("SELECT * FROM matters WHERE client_id = ? ORDER BY reference", [client_id])]


def get_matter(firm: "Firm", matter_id: int) -> Matter:
    return _matter(get_row(firm, "matters", matter_id, "matter"))


def _bank(r: dict) -> BankAccount:
    return BankAccount(r["id"], r["name"], r["kind"], r["bank_contact_id"], r["gl_account_id"])


def list_bank_accounts(firm: "Firm", kind: str | None = None) -> list[BankAccount]:
    if kind:
        return [_bank(r) for r in firm.db.query("SELECT * FROM bank_accounts WHERE kind = ? ORDER BY id", [kind])]
    return [_bank(r) for r in firm.db.query("SELECT * FROM bank_accounts ORDER BY id")]


def get_bank_account(firm: "Firm", bank_account_id: int) -> BankAccount:
    return _bank(get_row(firm, "bank_accounts", bank_account_id, "bank account"))


# --- documents ----------------------------------------------------------------------------------

_OPEN_SQL = (
    "SELECT l.invoice_id, sum(l.amount_minor) FROM journal_lines l JOIN accounts a ON a.id = l.account_id "
    "WHERE a.subtype = 'receivable' AND l.invoice_id IS NOT NULL"
)


def _filter(sql: str, params: list, **equal) -> str:
    """Append `AND column = ?` for every filter that is not None (column names are ours, never user input)."""
    for column, value in equal.items():
        if value is not None:
            sql += f" AND {column.replace('__', '.')} = ?"
            params.append(value)
    return sql


def _open_balances(firm: "Firm", invoice_ids: list[int] | None = None) -> dict[int, int]:
    if invoice_ids is None:
        rows = firm.db.execute(_OPEN_SQL + " GROUP BY l.invoice_id")
    else:
        rows = firm.db.execute(
            _OPEN_SQL + f" AND l.invoice_id IN ({','.join('?' * len(invoice_ids))}) GROUP BY l.invoice_id",
            invoice_ids,
        )
    return dict(rows.fetchall())


def get_invoice(firm: "Firm", invoice_id: int) -> Invoice:
    h = get_row(firm, "invoices", invoice_id, "invoice")
    lines = tuple(
        InvoiceLine(r["id"], r["line_no"], r["description"], r["account_id"], r["tax_rate_id"],
                    format_quantity(r["quantity_milli"]), r["quantity_milli"], r["unit_price_minor"],
                    r["amount_minor"], r["tax_minor"])
        for r in firm.db.query(
            "SELECT * FROM invoice_lines WHERE invoice_id = ? AND version = "
            "(SELECT max(version) FROM invoice_lines WHERE invoice_id = ?) ORDER BY line_no",
            [invoice_id, invoice_id],
        )
    )
    if h.get("voided_at"):
        lines = ()
    subtotal = sum(line.amount_minor for line in lines)
    adjustments = tuple(
        TaxAdjustment(r["id"], r["date"], r["tax_rate_id"], r["component_id"], r["amount_minor"], r["reason"])
        for r in firm.db.query("SELECT * FROM tax_adjustments WHERE invoice_id = ? AND invoice_version = "
                               "(SELECT max(version) FROM invoice_lines WHERE invoice_id = ?) ORDER BY id",
                               [invoice_id, invoice_id]))
    tax = sum(line.tax_minor for line in lines) + sum(a.amount_minor for a in adjustments)
    return Invoice(
        id=h["id"], number=h["number"], client_id=h["client_id"], matter_id=h["matter_id"], date=h["date"],
        due_date=h["due_date"], currency=h["currency"], version=h["version"], status=_status(h), lines=lines,
        subtotal_minor=subtotal, tax_minor=tax, total_minor=subtotal + tax,
        open_balance_minor=_open_balances(firm, [invoice_id]).get(invoice_id, 0), tax_adjustments=adjustments,
    )


def invoice_tax_lines(firm: "Firm", invoice_id: int) -> tuple[TaxLineFigure, ...]:
    """The invoice's tax per component rate (what an explicit TxnTaxDetail would send), priced by the firm's
    method from its current lines, plus the tax adjustments of this version; they add up to Invoice.tax_minor
    for every invoice priced since tax components existed."""
    inv = get_invoice(firm, invoice_id)
    components = load_components(firm.db)
    priced = compute(tax_method(firm_row(firm)["country"]),
                     [(ln.amount_minor, ln.tax_rate_id) for ln in inv.lines], components)
    nets: dict[int, int] = {}
    for ln in inv.lines:
        nets[ln.tax_rate_id] = nets.get(ln.tax_rate_id, 0) + ln.amount_minor
    adjusted: dict[int, int] = {}
    for a in inv.tax_adjustments:
        adjusted[a.component_id] = adjusted.get(a.component_id, 0) + a.amount_minor
    out = []
    for (rate_id, k), tax in priced.by_component.items():
        comp = components[rate_id][k]
        out.append(TaxLineFigure(rate_id, comp.id, comp.name, format_rate(comp.rate_ppm), nets[rate_id],
                                 tax + adjusted.get(comp.id, 0)))
    return tuple(out)


def list_invoices(firm: "Firm", *, client_id: int | None = None, status: str | None = None,
                  open_only: bool = False, limit: int | None = None, offset: int = 0) -> list[InvoiceSummary]:
    """Invoices newest first, with totals and open balances (status 'posted' or 'deleted'; None: both)."""
    sql = (
        "SELECT i.*, c.name AS client_name, "
        "(SELECT coalesce(sum(amount_minor + tax_minor), 0) FROM invoice_lines l "
        " WHERE i.voided_at IS NULL AND l.invoice_id = i.id AND l.version = "
        " (SELECT max(version) FROM invoice_lines m WHERE m.invoice_id = i.id)) "
        "+ (SELECT coalesce(sum(amount_minor), 0) FROM tax_adjustments t "
        " WHERE i.voided_at IS NULL AND t.invoice_id = i.id AND t.invoice_version = "
        " (SELECT max(version) FROM invoice_lines m WHERE m.invoice_id = i.id)) AS total_minor "
        "FROM invoices i JOIN contacts c ON c.id = i.client_id WHERE 1"
    )
    params: list = []
    sql = _filter(sql, params, i__client_id=client_id, i__status=status) + " ORDER BY i.date DESC, i.id DESC"
    if limit is not None and not open_only:
        sql += " LIMIT ? OFFSET ?"
        params += [limit, offset]
    rows = list(firm.db.query(sql, params))
    balances = _open_balances(firm, [r["id"] for r in rows]) if len(rows) < 500 else _open_balances(firm)
    out = [
        InvoiceSummary(r["id"], r["number"], r["client_id"], r["client_name"], r["matter_id"], r["date"],
                       r["due_date"], r["currency"], r["version"], _status(r), r["total_minor"],
                       balances.get(r["id"], 0))
        for r in rows
    ]
    if open_only:
        out = [i for i in out if i.open_balance_minor]
        if limit is not None:
            out = out[offset:offset + limit]
    return out


def _allocations(firm: "Firm", payment_id: int) -> tuple[Allocation, ...]:
    return tuple(
        Allocation(r[0], r[1])
        for r in firm.db.execute(
            "SELECT invoice_id, amount_minor FROM payment_allocations WHERE payment_id = ? AND version = "
            "(SELECT max(version) FROM payment_allocations WHERE payment_id = ?) ORDER BY invoice_id",
            [payment_id, payment_id],
        )
    )


def _status(row: dict) -> str:
    """'posted', 'deleted' or 'voided' (a voided document keeps its row, number and date, with zero amounts)."""
    return "voided" if row.get("voided_at") else row["status"]


def _payment(firm: "Firm", r: dict) -> Payment:
    voided = bool(r.get("voided_at"))
    return Payment(
        id=r["id"], client_id=r["client_id"], date=r["date"], amount_minor=0 if voided else r["amount_minor"],
        currency=r["currency"], bank_account_id=r["bank_account_id"], from_trust=bool(r["from_trust"]),
        trust_bank_account_id=r["trust_bank_account_id"], reference=r["reference"],
        allocations=() if voided else _allocations(firm, r["id"]), version=r["version"], status=_status(r),
    )


def get_payment(firm: "Firm", payment_id: int) -> Payment:
    return _payment(firm, get_row(firm, "payments", payment_id, "payment"))


def list_payments(firm: "Firm", *, client_id: int | None = None, status: str | None = None,
                  limit: int | None = None, offset: int = 0) -> list[Payment]:
    params: list = []
    sql = _filter("SELECT * FROM payments WHERE 1", params, client_id=client_id, status=status)
    sql += " ORDER BY date DESC, id DESC"
    if limit is not None:
        sql += " LIMIT ? OFFSET ?"
        params += [limit, offset]
    return [_payment(firm, r) for r in firm.db.query(sql, params)]


def _credit_note(firm: "Firm", h: dict) -> CreditNote:
    lines = tuple(
        CreditNoteLine(r["id"], r["line_no"], r["description"], r["account_id"], r["tax_rate_id"],
                       r["amount_minor"], r["tax_minor"])
        for r in firm.db.query(
            "SELECT * FROM credit_note_lines WHERE credit_note_id = ? AND version = "
            "(SELECT max(version) FROM credit_note_lines WHERE credit_note_id = ?) ORDER BY line_no",
            [h["id"], h["id"]],
        )
    )
    amount = sum(line.amount_minor for line in lines)
    tax = sum(line.tax_minor for line in lines)
    return CreditNote(
        id=h["id"], number=h["number"], kind=h["kind"], invoice_id=h["invoice_id"], client_id=h["client_id"],
        date=h["date"], currency=h["currency"], lines=lines, amount_minor=amount, tax_minor=tax,
        total_minor=amount + tax, version=h["version"], status=h["status"],
    )


def get_credit_note(firm: "Firm", credit_note_id: int) -> CreditNote:
    return _credit_note(firm, get_row(firm, "credit_notes", credit_note_id, "credit note"))


def list_credit_notes(firm: "Firm", *, invoice_id: int | None = None, client_id: int | None = None,
                      status: str | None = None) -> list[CreditNote]:
    params: list = []
    sql = _filter("SELECT * FROM credit_notes WHERE 1", params, invoice_id=invoice_id, client_id=client_id,
                  status=status)
    return [_credit_note(firm, r) for r in firm.db.query(sql + " ORDER BY date DESC, id DESC", params)]


def list_trust_transactions(firm: "Firm", client_id: int | None = None) -> list[TrustTransaction]:
    from core.ledger.trust import list_trust_transactions as trust_list

    return trust_list(firm, client_id)


# --- reports ------------------------------------------------------------------------------------

def trial_balance(firm: "Firm") -> TrialBalance:
    """Every account with a non-zero balance, as a debit or a credit; the two totals are equal."""
    cur = firm_row(firm)["currency"]
    sums = dict(firm.db.execute("SELECT account_id, sum(amount_minor) FROM journal_lines GROUP BY account_id"))
    rows = []
    for r in firm.db.query("SELECT id, code, name, type FROM accounts ORDER BY code"):
        balance = sums.get(r["id"])
        if not balance:
            continue
        rows.append(TrialBalanceRow(r["id"], r["code"], r["name"], r["type"], max(balance, 0), max(-balance, 0)))
    return TrialBalance(cur, tuple(rows), sum(r.debit_minor for r in rows), sum(r.credit_minor for r in rows))


def account_balance(firm: "Firm", account_id: int) -> int:
    """The balance of one account, positive in its normal direction (debit for assets and expenses)."""
    acc = get_row(firm, "accounts", account_id, "account")
    total = firm.db.execute(
        "SELECT coalesce(sum(amount_minor), 0) FROM journal_lines WHERE account_id = ?", [account_id]
    ).fetchone()[0]
    return total if acc["type"] in DEBIT_TYPES else -total


def _bucket(days_overdue: int) -> str:
    if days_overdue <= 0:
        return "current"
    if days_overdue <= 30:
        return "1-30"
    if days_overdue <= 60:
        return "31-60"
    if days_overdue <= 90:
        return "61-90"
    return "over_90"


def client_credits(firm: "Firm", client_id: int | None = None) -> list[ClientCredit]:
    """Clients with credit on account (receivable postings of no invoice: unallocated payments), by name."""
    params: list = []
    sql = ("SELECT l.client_id, c.name, -sum(l.amount_minor) FROM journal_lines l JOIN accounts a ON a.id = l.account_id "
           "JOIN contacts c ON c.id = l.client_id WHERE a.subtype = 'receivable' AND l.invoice_id IS NULL")
    if client_id is not None:
        sql += " AND l.client_id = ?"
        params.append(client_id)
    rows = firm.db.execute(sql + " GROUP BY l.client_id HAVING sum(l.amount_minor) != 0 ORDER BY c.name", params)
    return [ClientCredit(*r) for r in rows]


def client_credit(firm: "Firm", client_id: int) -> int:
    """One client's credit on account in minor units (0 when none)."""
    return sum(c.credit_minor for c in client_credits(firm, client_id))


def aging(firm: "Firm", as_of: str | dt.date | None = None) -> Aging:
    """Accounts-receivable aging by client, bucketed by days past the due date; a client's credit on account is
    shown beside the buckets and taken off their total, so the aging's total equals the receivable balance."""
    cur = firm_row(firm)["currency"]
    day = dt.date.fromisoformat(str(as_of)) if as_of else dt.date.today()
    balances = _open_balances(firm)
    per_client: dict[int, dict] = {}
    names: dict[int, str] = {}
    for r in firm.db.query(
        "SELECT i.id, i.client_id, i.due_date, c.name FROM invoices i JOIN contacts c ON c.id = i.client_id"
    ):
        balance = balances.get(r["id"], 0)
        if not balance:
            continue
        names[r["client_id"]] = r["name"]
        buckets = per_client.setdefault(r["client_id"], dict.fromkeys(AGING_BUCKETS, 0))
        buckets[_bucket((day - dt.date.fromisoformat(r["due_date"])).days)] += balance
    credits = {c.client_id: c.credit_minor for c in client_credits(firm)}
    for c in client_credits(firm):
        names[c.client_id] = c.client_name
        per_client.setdefault(c.client_id, dict.fromkeys(AGING_BUCKETS, 0))
    rows = tuple(
        AgingRow(cid, names[cid], b, sum(b.values()) - credits.get(cid, 0), credits.get(cid, 0))
        for cid, b in sorted(per_client.items(), key=lambda kv: names[kv[0]])
    )
    totals = {b: sum(r.buckets[b] for r in rows) for b in AGING_BUCKETS}
    credit = sum(credits.values())
    return Aging(cur, day.isoformat(), rows, totals, sum(totals.values()) - credit, credit)


def trust_ledger(firm: "Firm") -> TrustLedger:
    """Client trust balances, beside the trust bank balance they must equal."""
    cur = firm_row(firm)["currency"]
    rows = firm.db.execute(
        "SELECT l.client_id, c.name, -sum(l.amount_minor) FROM journal_lines l "
        "JOIN accounts a ON a.id = l.account_id JOIN contacts c ON c.id = l.client_id "
        "WHERE a.subtype = 'trust_liability' GROUP BY l.client_id ORDER BY c.name"
    ).fetchall()
    balances = tuple(TrustBalance(*r) for r in rows)
    bank = firm.db.execute(
        "SELECT coalesce(sum(l.amount_minor), 0) FROM journal_lines l JOIN accounts a ON a.id = l.account_id "
        "WHERE a.subtype = 'trust_bank'"
    ).fetchone()[0]
    return TrustLedger(cur, balances, sum(b.balance_minor for b in balances), bank)


def list_users(firm: "Firm") -> list[User]:
    return [User(r["name"], r["role"], r["granted_by"], r["granted_at"])
            for r in firm.db.query("SELECT * FROM users ORDER BY name")]


def list_audit(firm: "Firm", *, limit: int = 100) -> list[AuditEntry]:
    return [AuditEntry(r["id"], r["at"], r["user"], r["action"], r["entity"], r["entity_id"], r["detail"])
            for r in firm.db.query("SELECT * FROM audit_log ORDER BY id DESC LIMIT ?", [limit])]
