"""Billing writes: invoices, payments and credit notes, with edits and deletions (trust money: core.ledger.trust).

Each write validates everything first, then one `db.atomic()` transaction writes the document,
its balanced journal entry (a reversal plus a new posting for an edit, a reversal for a deletion),
its audit row and its sync-queue (outbox) row. Posted journal rows are never changed.

Posting rules (accrual):
  invoice      Dr receivable (total)            Cr income per line, Cr sales tax per rate account
  payment      Dr operating bank                Cr receivable per allocated invoice
  from trust   + Dr trust liability (client)    Cr trust bank (client)
  credit       Dr income per line, Dr tax       Cr receivable (invoice)
  write-off    Dr bad debts                     Cr receivable (invoice)

Amounts: line amount = quantity x unit price, rounded once per line ROUND_HALF_UP to the currency's
minor unit; tax by the method of the firm's QBO edition (core.ledger.tax), credited per component
account; document totals are sums of the lines, so they equal the sum of postings to the cent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Iterable, NamedTuple

from core.errors import Conflict, ValidationError
from core.ledger import queries
from core.ledger.base import (
    writes,
    OUTBOX_SQL,
    audit,
    audit_many,
    firm_row,
    half_up_div,
    live_document,
    mark_dirty,
    next_id,
    now,
    one_account,
    open_balance,
    parse_date,
    parse_quantity,
    peek_sequence,
    post_entry,
    require_role,
    reverse_version,
    set_sequence,
)
from core.ledger import trust
from core.ledger.locks import locked_problems
from core.ledger.models import CreditNote, Invoice, Payment
from core.ledger.schema import LINE_TYPES
from core.ledger.tax import compute as compute_tax, load_components, tax_method
from core.money import format_minor, parse_amount
from core.text import counted

if TYPE_CHECKING:
    from core.context import Firm

_KEEP: Any = object()


def _fail(problems: list[str]) -> None:
    if problems:
        raise ValidationError(problems[0] if len(problems) == 1 else
                              f"{len(problems)} problems: {problems[0]}", problems)


class _Ctx:
    """What one write needs to validate, loaded once (accounts, tax rates) or on demand (clients, balances)."""

    def __init__(self, firm: "Firm"):
        self.firm = firm
        row = firm_row(firm)
        self.currency = row["currency"]
        self.method = tax_method(row["country"])
        self.accounts = {r["id"]: r for r in firm.db.query("SELECT * FROM accounts")}
        self.tax_rates = {r["id"]: r for r in firm.db.query("SELECT * FROM tax_rates")}
        self.components = load_components(firm.db)
        self.banks = {r["id"]: r for r in firm.db.query("SELECT * FROM bank_accounts")}
        self._contacts: dict[int, dict | None] = {}
        self._matters: dict[int, dict | None] = {}
        self.open: dict[int, int] = {}  # invoice id -> open balance as of the documents prepared so far
        self.trust: dict[tuple[int, int], dict] = {}  # (client, trust account) -> ledgers by matter, as drafted

    def money(self, value, field_name: str) -> int:
        return parse_amount(value, self.currency, field=field_name)

    def fmt(self, minor: int) -> str:
        return f"{format_minor(minor, self.currency)} {self.currency}"

    def label(self, account_id: int) -> str:
        a = self.accounts[account_id]
        return f"{a['code']} {a['name']}"

    def client(self, client_id, problems: list[str], where: str = "client") -> dict | None:
        if client_id not in self._contacts:
            rows = list(self.firm.db.query("SELECT * FROM contacts WHERE id = ?", [client_id]))
            self._contacts[client_id] = rows[0] if rows else None
        row = self._contacts[client_id]
        if row is None or row["kind"] != "client":
            problems.append(f"{where}: there is no client with id {client_id}")
            return None
        return row

    def matter(self, matter_id, client_id, problems: list[str]) -> None:
        if matter_id is None:
            return
        if matter_id not in self._matters:
            rows = list(self.firm.db.query("SELECT * FROM matters WHERE id = ?", [matter_id]))
            self._matters[matter_id] = rows[0] if rows else None
        row = self._matters[matter_id]
        if row is None:
            problems.append(f"matter: there is no matter with id {matter_id}")
        elif row["client_id"] != client_id:
            problems.append(f"matter: matter {row['reference']} belongs to another client")

    def line_account(self, account_id, where: str, problems: list[str]) -> bool:
        a = self.accounts.get(account_id)
        if a is None:
            problems.append(f"{where}account: there is no account with id {account_id}")
        elif not a["active"]:
            problems.append(f"{where}account {self.label(account_id)} is inactive")
        elif a["type"] not in LINE_TYPES:
            problems.append(
                f"{where}account {self.label(account_id)} is a {a['type']} account; "
                "lines need an income or expense-recovery account"
            )
        else:
            return True
        return False

    def tax_rate(self, tax_rate_id, where: str, problems: list[str]) -> dict | None:
        t = self.tax_rates.get(tax_rate_id)
        if t is None:
            problems.append(f"{where}tax rate: there is no tax rate with id {tax_rate_id}")
        elif not t["active"]:
            problems.append(f"{where}tax rate {t['name']} is inactive")
        else:
            return t
        return None

    def line_refs(self, line, at: str, problems: list[str]) -> tuple[int, dict | None]:
        """The account (checked as a line account) and tax rate of an invoice or credit-note line."""
        account_id = _field(line, "account_id")
        ok = self.line_account(account_id, at, problems)
        return (account_id if ok else None), self.tax_rate(_field(line, "tax_rate_id"), at, problems)

    def subtype_account(self, subtype: str, purpose: str) -> int:
        for a in sorted(self.accounts.values(), key=lambda a: a["code"]):
            if a["subtype"] == subtype and a["active"]:
                return a["id"]
        return one_account(self.firm, subtype, purpose)

    def open_balance(self, invoice_id: int) -> int:
        if invoice_id not in self.open:
            self.open[invoice_id] = open_balance(self.firm, invoice_id)
        return self.open[invoice_id]

    def trust_ledgers(self, client_id: int, bank_account_id: int) -> dict:
        key = (client_id, bank_account_id)
        if key not in self.trust:
            self.trust[key] = trust.ledgers_of(self.firm, client_id, bank_account_id)
        return self.trust[key]


def _field(spec, name: str, default=None):
    return spec.get(name, default) if isinstance(spec, dict) else getattr(spec, name, default)


# --- invoices -------------------------------------------------------------------------------------

class _Line(NamedTuple):
    """A priced invoice line, in the column order of invoice_lines."""

    description: str
    account_id: int
    tax_rate_id: int
    quantity_milli: int
    unit_price_minor: int
    amount_minor: int
    tax_minor: int


@dataclass
class _InvoiceDraft:
    client_id: int
    matter_id: int | None
    date: str
    due_date: str
    number: str | None
    lines: list[_Line] = field(default_factory=list)
    tax_by_account: dict = field(default_factory=dict)  # liability account id -> minor units credited

    @property
    def total(self) -> int:
        return sum(line.amount_minor + line.tax_minor for line in self.lines)


def _prepare_invoice(ctx: _Ctx, spec: dict, problems: list[str], where: str = "") -> _InvoiceDraft | None:
    before = len(problems)
    draft = _draft_invoice(ctx, spec, problems, where)
    return draft if len(problems) == before else None


def _draft_invoice(ctx: _Ctx, spec: dict, problems: list[str], where: str = "") -> _InvoiceDraft:
    """The invoice as far as it can be priced; what is wrong with it goes to `problems`."""
    client_id = _field(spec, "client_id")
    ctx.client(client_id, problems, f"{where}client")
    matter_id = _field(spec, "matter_id")
    ctx.matter(matter_id, client_id, problems)
    date = due = None
    try:
        date = parse_date(_field(spec, "date"), f"{where}date")
        raw_due = _field(spec, "due_date")
        due = (parse_date(raw_due, f"{where}due date") if raw_due
               else (dt.date.fromisoformat(date) + dt.timedelta(days=30)).isoformat())
        if due < date:
            problems.append(f"{where}due date {due} is before the invoice date {date}")
    except ValidationError as exc:
        problems.append(exc.message)
    number = _field(spec, "number")
    lines = _field(spec, "lines") or []
    if not lines:
        problems.append(f"{where}an invoice needs at least one line")
    draft = _InvoiceDraft(client_id, matter_id, date or "", due or "", str(number).strip() if number else None)
    _prepare_lines(ctx, lines, draft, problems, where)
    return draft


def _prepare_lines(ctx: _Ctx, lines: list, draft: _InvoiceDraft, problems: list[str], where: str = "") -> None:
    """Price each line into `draft.lines` (amount and tax in minor units); a line with a problem is left out."""
    priced_lines: list[tuple] = []
    for n, line in enumerate(lines, 1):
        at = f"{where}line {n}: "
        account_id, rate = ctx.line_refs(line, at, problems)
        try:
            qty = parse_quantity(_field(line, "quantity", 1), f"{at}quantity")
            price = ctx.money(_field(line, "unit_price"), f"{at}unit price")
            if price < 0:
                raise ValidationError(f"{at}unit price must not be negative")
        except ValidationError as exc:
            problems.append(exc.message)
            continue
        if account_id is None or rate is None:
            continue
        desc = str(_field(line, "description", "") or "").strip()
        priced_lines.append((desc, account_id, rate["id"], qty, price, half_up_div(qty * price, 1000)))
    priced = compute_tax(ctx.method, [(p[5], p[2]) for p in priced_lines], ctx.components)
    draft.lines = [_Line(*p, t) for p, t in zip(priced_lines, priced.line_tax)]
    draft.tax_by_account = priced.by_account(ctx.components)


def _invoice_journal(ctx: _Ctx, draft: _InvoiceDraft, invoice_id: int, ar: int) -> list[tuple]:
    c, m = draft.client_id, draft.matter_id
    lines = [(ar, draft.total, c, m, invoice_id)]
    lines += [(ln.account_id, -ln.amount_minor, c, m, None) for ln in draft.lines]
    lines += [(acc, -tax, c, m, None) for acc, tax in sorted(draft.tax_by_account.items())]
    return [line for line in lines if line[1]]


def _taken(firm: "Firm", numbers: list[str]) -> dict[str, int]:
    """Which of these invoice numbers exist already: {number: invoice id}."""
    found: dict[str, int] = {}
    for i in range(0, len(numbers), 500):
        chunk = numbers[i:i + 500]
        found.update(firm.db.execute(
            f"SELECT number, id FROM invoices WHERE number IN ({','.join('?' * len(chunk))})", chunk).fetchall())
    return found


def _number_problems(firm: "Firm", specs: list[dict], problems: list[str]) -> None:
    wanted = [str(_field(s, "number")).strip() for s in specs if _field(s, "number")]
    seen: set[str] = set()
    for number in wanted:
        if number in seen:
            problems.append(f"Duplicate invoice number {number} in this batch")
        seen.add(number)
    for number, id_ in _taken(firm, wanted).items():
        problems.append(f"Duplicate invoice number: {number} is already used by invoice {id_}")


def _assign_numbers(firm: "Firm", drafts: list[_InvoiceDraft]) -> None:
    """Number the drafts without one from the sequence, skipping numbers already used."""
    prefix = firm.settings.ledger.invoice_prefix
    need = [d for d in drafts if not d.number]
    given = {d.number for d in drafts if d.number}
    numbers: list[str] = []
    n = peek_sequence(firm, "invoice")
    while len(numbers) < len(need):
        candidates = [(k, f"{prefix}{k:05d}") for k in range(n, n + len(need) - len(numbers) + 16)]
        taken = given | set(_taken(firm, [c for _, c in candidates]))
        for k, number in candidates:
            if len(numbers) == len(need):
                break
            n = k + 1
            if number not in taken:
                numbers.append(number)
    for d, number in zip(need, numbers):
        d.number = number
    if need:
        set_sequence(firm, "invoice", n)


@writes
def post_invoices(firm: "Firm", specs: Iterable[dict]) -> list[int]:
    """Post many invoices in one transaction (the bulk path of demo, import and the benchmark).

    Each spec: client_id, matter_id (optional), date, due_date (optional: date + 30 days), number
    (optional: next from the sequence with settings.ledger.invoice_prefix), lines: [{description,
    account_id, quantity, unit_price, tax_rate_id}]. All or nothing; returns the new invoice ids.
    """
    require_role(firm, "bookkeeper", "post invoices")
    ctx = _Ctx(firm)
    problems: list[str] = []
    specs = list(specs)
    drafts = [_prepare_invoice(ctx, s, problems, f"invoice {i}: " if len(specs) > 1 else "")
              for i, s in enumerate(specs, 1)]
    _number_problems(firm, specs, problems)
    problems += locked_problems(firm, [(f"Invoice {d.number or i}" if d.number or len(drafts) > 1 else "The invoice",
                                        d.date) for i, d in enumerate(drafts, 1) if d])
    _fail(problems)
    ar = ctx.subtype_account("receivable", "an invoice")
    stamp, user = now(), firm.user
    with firm.db.atomic():
        _assign_numbers(firm, drafts)
        first_inv, first_entry = next_id(firm, "invoices"), next_id(firm, "journal_entries")
        inv_rows, line_rows, entry_rows, jl_rows, queue_rows, audit_rows = [], [], [], [], [], []
        for k, d in enumerate(drafts):
            inv_id, entry_id = first_inv + k, first_entry + k
            inv_rows.append((inv_id, d.number, d.client_id, d.matter_id, d.date, d.due_date, ctx.currency, stamp, stamp))
            line_rows += [(inv_id, n, *line) for n, line in enumerate(d.lines, 1)]
            entry_rows.append((entry_id, d.date, inv_id, stamp, user, f"Invoice {d.number}"))
            jl_rows += [(entry_id, *line) for line in _invoice_journal(ctx, d, inv_id, ar)]
            queue_rows.append(("invoice", inv_id, 1, "upsert", stamp))
            audit_rows.append(("create_invoice", "invoice", inv_id, f"{d.number} {ctx.fmt(d.total)}"))
        _insert_invoices(firm, inv_rows, line_rows, entry_rows, jl_rows, queue_rows)
        audit_many(firm, audit_rows)
        _check_entries_balance(firm, first_entry)
    return [first_inv + k for k in range(len(drafts))]


def _insert_invoices(firm: "Firm", inv_rows, line_rows, entry_rows, jl_rows, queue_rows) -> None:
    c = firm.db.conn
    c.executemany(
        "INSERT INTO invoices (id, number, client_id, matter_id, date, due_date, currency, version, status, "
        "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 1, 'posted', ?, ?)", inv_rows)
    c.executemany(
        "INSERT INTO invoice_lines (invoice_id, version, line_no, description, account_id, tax_rate_id, "
        "quantity_milli, unit_price_minor, amount_minor, tax_minor) VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, ?)", line_rows)
    c.executemany(
        "INSERT INTO journal_entries (id, date, doc_type, doc_id, doc_version, kind, created_at, user, memo) "
        "VALUES (?, ?, 'invoice', ?, 1, 'post', ?, ?, ?)", entry_rows)
    c.executemany(
        "INSERT INTO journal_lines (entry_id, account_id, amount_minor, client_id, matter_id, invoice_id) "
        "VALUES (?, ?, ?, ?, ?, ?)", jl_rows)
    c.executemany(OUTBOX_SQL, queue_rows)


def _check_entries_balance(firm: "Firm", first_entry: int) -> None:
    """Inside the write transaction: every entry written from `first_entry` on sums to zero."""
    bad = firm.db.execute(
        "SELECT entry_id, sum(amount_minor) FROM journal_lines WHERE entry_id >= ? GROUP BY entry_id "
        "HAVING sum(amount_minor) != 0 LIMIT 1", [first_entry]).fetchone()
    if bad:
        raise ValidationError(f"Journal entry {bad[0]} does not balance (off by {bad[1]} minor units)")


@writes
def create_invoice(firm: "Firm", *, client_id: int, date, lines: list[dict], matter_id: int | None = None,
                   due_date=None, number: str | None = None) -> Invoice:
    """Post one invoice (Dr receivable, Cr income per line, Cr sales tax) and queue it for QBO."""
    spec = dict(client_id=client_id, matter_id=matter_id, date=date, due_date=due_date, number=number, lines=lines)
    return queries.get_invoice(firm, post_invoices(firm, [spec])[0])


@writes
def edit_invoice(firm: "Firm", invoice_id: int, *, lines: list[dict] | None = None, date=None, due_date=None,
                 matter_id=_KEEP) -> Invoice:
    """Replace an invoice's date, due date, matter or lines: reversal of the old posting plus a new one."""
    require_role(firm, "bookkeeper", "edit invoices")
    inv = live_document(firm, "invoices", invoice_id, "invoice", "number")
    ctx = _Ctx(firm)
    problems: list[str] = []
    if lines is None:
        draft = _keep_lines_draft(firm, ctx, inv, date, due_date, matter_id, problems)
    else:
        spec = dict(client_id=inv["client_id"], matter_id=inv["matter_id"] if matter_id is _KEEP else matter_id,
                    date=date or inv["date"], due_date=due_date or _same_terms(inv, date), lines=lines)
        draft = _prepare_invoice(ctx, spec, problems)
    _fail(problems)
    old_total = firm.db.execute(
        "SELECT sum(amount_minor + tax_minor) FROM invoice_lines WHERE invoice_id = ? AND version = ?",
        [invoice_id, inv["version"]]).fetchone()[0] + firm.db.execute(
        "SELECT coalesce(sum(amount_minor), 0) FROM tax_adjustments WHERE invoice_id = ? AND invoice_version = ?",
        [invoice_id, inv["version"]]).fetchone()[0]
    settled = old_total - ctx.open_balance(invoice_id)
    if draft.total < settled:
        raise ValidationError(
            f"Invoice {inv['number']} has {ctx.fmt(settled)} paid or credited; its total cannot become "
            f"{ctx.fmt(draft.total)}. Edit or delete the payment or credit note first")
    ar = ctx.subtype_account("receivable", "an invoice")
    v = inv["version"] + 1
    with firm.db.atomic():
        reverse_version(firm, date=inv["date"], doc_type="invoice", doc_id=invoice_id, version=inv["version"],
                        new_version=v, memo=f"Reversal of invoice {inv['number']} v{inv['version']}")
        firm.db.execute(
            "UPDATE invoices SET matter_id = ?, date = ?, due_date = ?, version = ?, updated_at = ? WHERE id = ?",
            [draft.matter_id, draft.date, draft.due_date, v, now(), invoice_id])
        firm.db.conn.executemany(
            "INSERT INTO invoice_lines (invoice_id, version, line_no, description, account_id, tax_rate_id, "
            "quantity_milli, unit_price_minor, amount_minor, tax_minor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(invoice_id, v, n, *line) for n, line in enumerate(draft.lines, 1)])
        post_entry(firm, date=draft.date, doc_type="invoice", doc_id=invoice_id, doc_version=v, kind="post",
                   memo=f"Invoice {inv['number']} v{v}", lines=_invoice_journal(ctx, draft, invoice_id, ar))
        mark_dirty(firm, "invoice", invoice_id, v)
        audit(firm, "edit_invoice", "invoice", invoice_id, f"{inv['number']} v{v} {ctx.fmt(draft.total)}")
    return queries.get_invoice(firm, invoice_id)


def _same_terms(inv: dict, new_date) -> str:
    """The due date that keeps an invoice's payment terms when its date moves."""
    if not new_date:
        return inv["due_date"]
    try:
        day = dt.date.fromisoformat(parse_date(new_date))
    except ValidationError:
        return inv["due_date"]  # the bad date itself is reported by the date check
    terms = dt.date.fromisoformat(inv["due_date"]) - dt.date.fromisoformat(inv["date"])
    return (day + terms).isoformat()


def _keep_lines_draft(firm, ctx: _Ctx, inv: dict, date, due_date, matter_id, problems: list[str]) -> _InvoiceDraft:
    """An edit of the header only: the current lines are kept exactly as they were computed."""
    matter = inv["matter_id"] if matter_id is _KEEP else matter_id
    ctx.matter(matter, inv["client_id"], problems)
    d = inv["date"]
    due = inv["due_date"]
    try:
        if date:
            d = parse_date(date)
            due = _same_terms(inv, d)
        if due_date:
            due = parse_date(due_date, "due date")
        if due < d:
            problems.append(f"due date {due} is before the invoice date {d}")
    except ValidationError as exc:
        problems.append(exc.message)
    draft = _InvoiceDraft(inv["client_id"], matter, d, due, inv["number"])
    draft.lines = [
        _Line(*r) for r in firm.db.execute(
            "SELECT description, account_id, tax_rate_id, quantity_milli, unit_price_minor, amount_minor, tax_minor "
            "FROM invoice_lines WHERE invoice_id = ? AND version = ? ORDER BY line_no", [inv["id"], inv["version"]])
    ]
    draft.tax_by_account = posted_tax_by_account(firm, inv["id"], inv["version"])
    return draft


def posted_tax_by_account(firm: "Firm", invoice_id: int, version: int) -> dict[int, int]:
    """What an invoice version's own posting credited to each sales-tax account (tax adjustments left out)."""
    return dict(firm.db.execute(
        "SELECT l.account_id, -sum(l.amount_minor) FROM journal_lines l JOIN journal_entries e ON e.id = l.entry_id "
        "JOIN accounts a ON a.id = l.account_id WHERE e.doc_type = 'invoice' AND e.doc_id = ? AND e.doc_version = ? "
        "AND e.kind = 'post' AND a.subtype = 'sales_tax' AND e.id NOT IN (SELECT entry_id FROM tax_adjustments) "
        "GROUP BY l.account_id HAVING sum(l.amount_minor) != 0", [invoice_id, version]).fetchall())


@writes
def delete_invoice(firm: "Firm", invoice_id: int) -> Invoice:
    """Reverse an invoice's posting and mark it deleted; refused while payments or credits are applied to it."""
    require_role(firm, "bookkeeper", "delete invoices")
    inv = live_document(firm, "invoices", invoice_id, "invoice", "number")
    paid = firm.db.execute(
        "SELECT count(*) FROM payment_allocations a JOIN payments p ON p.id = a.payment_id AND p.version = a.version "
        "WHERE a.invoice_id = ? AND p.status = 'posted'", [invoice_id]).fetchone()[0]
    credits = firm.db.execute(
        "SELECT count(*) FROM credit_notes WHERE invoice_id = ? AND status = 'posted'", [invoice_id]).fetchone()[0]
    if paid or credits:
        raise Conflict(f"Invoice {inv['number']} has {counted(paid, 'payment')} and "
                       f"{counted(credits, 'credit note')} applied; delete those first")
    _delete(firm, "invoices", "invoice", inv, inv["number"])
    return queries.get_invoice(firm, invoice_id)


def _delete(firm: "Firm", table: str, doc_type: str, row: dict, label: str) -> None:
    v = row["version"] + 1
    with firm.db.atomic():
        reverse_version(firm, date=row["date"], doc_type=doc_type, doc_id=row["id"], version=row["version"],
                        new_version=v, memo=f"Deletion of {doc_type.replace('_', ' ')} {label}")
        firm.db.execute(f"UPDATE {table} SET status = 'deleted', version = ?, updated_at = ? WHERE id = ?",
                        [v, now(), row["id"]])
        mark_dirty(firm, doc_type, row["id"], v, "delete")
        audit(firm, f"delete_{doc_type}", doc_type, row["id"], label)


# --- payments -------------------------------------------------------------------------------------

@dataclass
class _PaymentDraft:
    client_id: int
    date: str
    amount: int
    bank_account_id: int
    from_trust: bool
    trust_bank_account_id: int | None
    reference: str | None
    allocations: list[tuple[int, int]]
    trust_draws: list[tuple[int | None, int]] = field(default_factory=list)  # (matter, amount) from trust

    @property
    def credit(self) -> int:
        """What the invoices do not take: the client's credit on account."""
        return self.amount - sum(amt for _i, amt in self.allocations)


def _no_trust_credit(ctx: _Ctx, drafts: list, problems: list[str], several: bool) -> None:
    """Trust money pays invoices only: a payment from trust above what they take is refused."""
    for i, d in enumerate(drafts, 1):
        if d is not None and d.from_trust and d.credit:
            name = ctx.client(d.client_id, problems)["name"]
            problems.append(
                f"{f'payment {i}: ' if several else ''}overpayment from trust: {name}'s invoices take "
                f"{ctx.fmt(d.amount - d.credit)} of the {ctx.fmt(d.amount)}; trust money never becomes credit on "
                "account, so pay only what is owed")


def _prepare_payment(ctx: _Ctx, spec: dict, problems: list[str], where: str = "",
                     editing: dict | None = None) -> _PaymentDraft | None:
    before = len(problems)
    client_id = _field(spec, "client_id")
    client = ctx.client(client_id, problems, f"{where}client")
    date, amount = "", 0
    try:
        date = parse_date(_field(spec, "date"), f"{where}date")
    except ValidationError as exc:
        problems.append(exc.message)
    try:
        amount = ctx.money(_field(spec, "amount"), f"{where}amount")
        if amount <= 0:
            problems.append(f"{where}amount must be more than zero")
    except ValidationError as exc:
        problems.append(exc.message)
    _check_currency(ctx, _field(spec, "currency"), _field(spec, "exchange_rate"), client, problems, where)
    bank_id = _field(spec, "bank_account_id")
    bank = ctx.banks.get(bank_id)
    if bank is None:
        problems.append(f"{where}bank account: there is no bank account with id {bank_id}")
    elif bank["kind"] != "operating":
        problems.append(
            f"{where}bank account {bank['name']} is a trust account: invoice payments are deposited to an "
            "operating account (record client money with a trust receipt)")
    from_trust = bool(_field(spec, "from_trust", False))
    trust_id = _field(spec, "trust_bank_account_id")
    if from_trust:
        if trust_id is None:
            trust_id = next((b["id"] for b in ctx.banks.values() if b["kind"] == "trust"), None)
            if trust_id is None:
                problems.append(f"{where}the firm has no trust bank account to pay from: add one in Setup › Trust")
        elif trust_id not in ctx.banks or ctx.banks[trust_id]["kind"] != "trust":
            problems.append(f"{where}trust bank account: there is no trust bank account with id {trust_id}")
    else:
        trust_id = None
    if from_trust and date and trust_id in ctx.banks and ctx.banks[trust_id]["kind"] == "trust":
        problem = trust.lock_problem(ctx.firm, trust_id, date, ctx.banks[trust_id]["name"])
        if problem:
            problems.append(f"{where}{problem}")
    if len(problems) > before or client is None:
        return None
    # What this payment already contributes (when editing) is available again.
    if editing:
        for inv_id, amt in editing["allocations"]:
            ctx.open[inv_id] = ctx.open_balance(inv_id) + amt
        if editing["from_trust"] and editing["client_id"] == client_id:
            ledgers = ctx.trust_ledgers(client_id, editing["trust_bank_account_id"])
            for matter_id, amt in editing["trust_draws"]:
                ledgers[matter_id] = ledgers.get(matter_id, 0) + amt
    allocations = _allocate(ctx, client_id, client["name"], amount, _field(spec, "allocations"), problems, where)
    draws: list[tuple[int | None, int]] = []
    if from_trust and allocations is not None:
        ledgers = ctx.trust_ledgers(client_id, trust_id)
        for inv_id, amt in allocations:
            inv_matter = ctx.firm.db.execute("SELECT matter_id FROM invoices WHERE id = ?", [inv_id]).fetchone()[0]
            named = _field(spec, "trust_matter_id", _KEEP)
            if named is _KEEP:
                plan = trust.plan_draw(ledgers, amt, prefer=(inv_matter,) if inv_matter else ())
            else:
                plan = trust.plan_draw(ledgers, amt, named, named=True)
            if plan is None:
                held = sum(ledgers.values()) if named is _KEEP else ledgers.get(named, 0)
                ref = None if named in (_KEEP, None) else ctx.firm.db.execute(
                    "SELECT reference FROM matters WHERE id = ?", [named]).fetchone()[0]
                problems.append(trust.overdraw(
                    client["name"], ref, named is not _KEEP, ctx.banks[trust_id]["name"], held, amount,
                    ctx.currency, "paid from trust", where, "trust").message)
                break
            for matter_id, part in plan:
                ledgers[matter_id] = ledgers.get(matter_id, 0) - part
                draws.append((matter_id, part))
    if len(problems) > before:
        return None
    for inv_id, amt in allocations:
        ctx.open[inv_id] -= amt
    return _PaymentDraft(client_id, date, amount, bank_id, from_trust, trust_id, _field(spec, "reference"), allocations,
                         draws)


def _check_currency(ctx: _Ctx, cur, rate, client: dict | None, problems: list[str], where: str) -> None:
    """A payment is in the firm's home currency (rate 1): another currency or a rate of 0 or below is refused."""
    who = f"{client['name']}'s payment" if client else "the payment"
    if cur is not None and str(cur).strip().upper() != ctx.currency:
        problems.append(f"{where}currency: {who} is in {str(cur).strip().upper() or '(none)'}, but the firm keeps "
                        f"its books in {ctx.currency} only and has no {str(cur).strip().upper() or 'such'} account: "
                        f"record it in {ctx.currency} (at the amount the bank credited)")
    if rate is None:
        return
    if isinstance(rate, float):
        raise TypeError("exchange rates must not be floats")
    try:
        value = Decimal(str(rate).strip())
    except InvalidOperation:
        problems.append(f"{where}exchange rate: '{rate}' is not a number")
        return
    if not value.is_finite() or value <= 0:
        problems.append(f"{where}exchange rate: {rate} must be more than zero")
    elif value != 1 and (cur is None or str(cur).strip().upper() == ctx.currency):
        problems.append(f"{where}exchange rate: a payment in the home currency {ctx.currency} has the rate 1, "
                        f"not {rate}")


def _allocate(ctx: _Ctx, client_id: int, client_name: str, amount: int, allocations, problems: list[str],
              where: str) -> list[tuple[int, int]] | None:
    firm = ctx.firm
    out: list[tuple[int, int]] = []
    if allocations is None:
        remaining = amount
        for inv_id, number in firm.db.execute(
                "SELECT id, number FROM invoices WHERE client_id = ? AND status = 'posted' ORDER BY date, id",
                [client_id]):
            take = min(remaining, ctx.open_balance(inv_id))
            if take > 0:
                out.append((inv_id, take))
                remaining -= take
            if not remaining:
                return out
        return out  # what is left over is the client's credit on account
    total = 0
    for n, alloc in enumerate(allocations, 1):
        inv_id, raw = (alloc if isinstance(alloc, (tuple, list)) else (_field(alloc, "invoice_id"), _field(alloc, "amount")))
        at = f"{where}allocation {n}: "
        rows = list(firm.db.query("SELECT id, number, client_id, status FROM invoices WHERE id = ?", [inv_id]))
        if not rows:
            problems.append(f"{at}there is no invoice with id {inv_id}")
            continue
        inv = rows[0]
        if inv["status"] != "posted":
            problems.append(f"{at}invoice {inv['number']} was deleted")
            continue
        if inv["client_id"] != client_id:
            problems.append(f"{at}invoice {inv['number']} belongs to another client")
            continue
        try:
            amt = ctx.money(raw, f"{at}amount")
        except ValidationError as exc:
            problems.append(exc.message)
            continue
        if amt <= 0:
            problems.append(f"{at}amount must be more than zero")
            continue
        already = sum(a for i, a in out if i == inv_id)
        if amt + already > ctx.open_balance(inv_id):
            problems.append(f"{at}overpayment: invoice {inv['number']} has {ctx.fmt(ctx.open_balance(inv_id) - already)} "
                            f"open; {ctx.fmt(amt)} cannot be allocated to it")
            continue
        out.append((inv_id, amt))
        total += amt
    if problems:
        return None
    if total > amount:
        problems.append(f"{where}the allocations add up to {ctx.fmt(total)}, more than the payment's {ctx.fmt(amount)}")
        return None
    return out  # what is left over is the client's credit on account


def _merge_allocations(allocations: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: dict[int, int] = {}
    for inv_id, amt in allocations:
        merged[inv_id] = merged.get(inv_id, 0) + amt
    return sorted(merged.items())


def _payment_journal(ctx: _Ctx, d: _PaymentDraft) -> list[tuple]:
    ar = ctx.subtype_account("receivable", "a payment")
    lines = [(ctx.banks[d.bank_account_id]["gl_account_id"], d.amount, d.client_id, None, None)]
    # The excess is the client's credit on account: receivable of no invoice (negative AR), operating money.
    lines += [(ar, -d.credit, d.client_id, None, None)] if d.credit else []
    lines += [(ar, -amt, d.client_id, None, inv_id) for inv_id, amt in d.allocations]
    if d.from_trust:
        liability = ctx.subtype_account("trust_liability", "a payment from trust")
        trust_gl = ctx.banks[d.trust_bank_account_id]["gl_account_id"]
        for matter_id, part in d.trust_draws:
            lines += [(liability, part, d.client_id, matter_id, None), (trust_gl, -part, d.client_id, matter_id, None)]
    return lines


def _payment_spec(client_id, date, amount, bank_account_id, allocations, from_trust, trust_bank_account_id, reference,
                  currency=None, exchange_rate=None):
    return dict(client_id=client_id, date=date, amount=amount, bank_account_id=bank_account_id,
                allocations=allocations, from_trust=from_trust, trust_bank_account_id=trust_bank_account_id,
                reference=reference, currency=currency, exchange_rate=exchange_rate)


@writes
def post_payments(firm: "Firm", specs: Iterable[dict]) -> list[int]:
    """Record many payments in one transaction (bulk path). Spec keys as `record_payment`. All or nothing."""
    require_role(firm, "bookkeeper", "record payments")
    ctx = _Ctx(firm)
    problems: list[str] = []
    specs = list(specs)
    drafts = [_prepare_payment(ctx, s, problems, f"payment {i}: " if len(specs) > 1 else "")
              for i, s in enumerate(specs, 1)]
    _no_trust_credit(ctx, drafts, problems, len(specs) > 1)
    problems += locked_problems(firm, [(f"Payment {i}" if len(drafts) > 1 else "The payment", d.date)
                                       for i, d in enumerate(drafts, 1) if d])
    _fail(problems)
    stamp, user = now(), firm.user
    with firm.db.atomic():
        first_pay, first_entry = next_id(firm, "payments"), next_id(firm, "journal_entries")
        pay_rows, alloc_rows, entry_rows, jl_rows, queue_rows, audit_rows = [], [], [], [], [], []
        for k, d in enumerate(drafts):
            pid, eid = first_pay + k, first_entry + k
            d.allocations = _merge_allocations(d.allocations)
            pay_rows.append((pid, d.client_id, d.date, d.amount, ctx.currency, d.bank_account_id, int(d.from_trust),
                             d.trust_bank_account_id, d.reference, stamp, stamp))
            alloc_rows += [(pid, inv_id, amt) for inv_id, amt in d.allocations]
            entry_rows.append((eid, d.date, pid, stamp, user, f"Payment {pid}"))
            jl_rows += [(eid, *line) for line in _payment_journal(ctx, d)]
            queue_rows.append(("payment", pid, 1, "upsert", stamp))
            if d.from_trust:  # its trust side goes to QBO as a JournalEntry of its own
                queue_rows.append(("trust_payment", pid, 1, "upsert", stamp))
            audit_rows.append(("record_payment", "payment", pid, ctx.fmt(d.amount)))
        c = firm.db.conn
        c.executemany(
            "INSERT INTO payments (id, client_id, date, amount_minor, currency, bank_account_id, from_trust, "
            "trust_bank_account_id, reference, version, status, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 'posted', ?, ?)", pay_rows)
        c.executemany("INSERT INTO payment_allocations (payment_id, version, invoice_id, amount_minor) "
                      "VALUES (?, 1, ?, ?)", alloc_rows)
        c.executemany(
            "INSERT INTO journal_entries (id, date, doc_type, doc_id, doc_version, kind, created_at, user, memo) "
            "VALUES (?, ?, 'payment', ?, 1, 'post', ?, ?, ?)", entry_rows)
        c.executemany("INSERT INTO journal_lines (entry_id, account_id, amount_minor, client_id, matter_id, invoice_id) "
                      "VALUES (?, ?, ?, ?, ?, ?)", jl_rows)
        c.executemany(OUTBOX_SQL, queue_rows)
        audit_many(firm, audit_rows)
        _check_entries_balance(firm, first_entry)
    return [first_pay + k for k in range(len(drafts))]


@writes
def record_payment(firm: "Firm", *, client_id: int, date, amount, bank_account_id: int,
                   allocations: list | None = None, from_trust: bool = False,
                   trust_bank_account_id: int | None = None, reference: str | None = None,
                   currency: str | None = None, exchange_rate=None) -> Payment:
    """A client's payment into an operating account, allocated to invoices [(invoice_id, amount), ...]
    (None: oldest open invoices first); what the invoices do not take is the client's credit on account.
    from_trust pays out of the client's trust money (never more than is owed). currency/exchange_rate, when
    given, must be the firm's home currency at rate 1 (foreign currencies are refused for now)."""
    spec = _payment_spec(client_id, date, amount, bank_account_id, allocations, from_trust, trust_bank_account_id,
                         reference, currency, exchange_rate)
    return queries.get_payment(firm, post_payments(firm, [spec])[0])


@writes
def edit_payment(firm: "Firm", payment_id: int, *, date=None, amount=None, bank_account_id=None,
                 allocations=_KEEP, reference=_KEEP) -> Payment:
    require_role(firm, "bookkeeper", "edit payments")
    row = live_document(firm, "payments", payment_id, "payment", "id")
    current = queries.get_payment(firm, payment_id)
    ctx = _Ctx(firm)
    problems: list[str] = []
    old_allocs = [(a.invoice_id, a.amount_minor) for a in current.allocations]
    if allocations is _KEEP:  # a new amount is re-allocated oldest first; otherwise keep the allocations
        allocations = [(i, _minor_text(ctx, a)) for i, a in old_allocs] if amount is None else None
    spec = _payment_spec(row["client_id"], date or row["date"],
                         amount if amount is not None else _minor_text(ctx, row["amount_minor"]),
                         bank_account_id or row["bank_account_id"], allocations, bool(row["from_trust"]),
                         row["trust_bank_account_id"], row["reference"] if reference is _KEEP else reference)
    editing = dict(allocations=old_allocs, from_trust=bool(row["from_trust"]), amount=row["amount_minor"],
                   client_id=row["client_id"], trust_bank_account_id=row["trust_bank_account_id"],
                   trust_draws=_trust_draws(firm, row))
    _trust_unlocked(firm, row, problems)
    d = _prepare_payment(ctx, spec, problems, editing=editing)
    _no_trust_credit(ctx, [d], problems, False)
    _fail(problems)
    d.allocations = _merge_allocations(d.allocations)
    v = row["version"] + 1
    with firm.db.atomic():
        reverse_version(firm, date=row["date"], doc_type="payment", doc_id=payment_id, version=row["version"],
                        new_version=v, memo=f"Reversal of payment {payment_id} v{row['version']}")
        firm.db.execute(
            "UPDATE payments SET date = ?, amount_minor = ?, bank_account_id = ?, reference = ?, version = ?, "
            "updated_at = ? WHERE id = ?",
            [d.date, d.amount, d.bank_account_id, d.reference, v, now(), payment_id])
        firm.db.conn.executemany(
            "INSERT INTO payment_allocations (payment_id, version, invoice_id, amount_minor) VALUES (?, ?, ?, ?)",
            [(payment_id, v, i, a) for i, a in d.allocations])
        post_entry(firm, date=d.date, doc_type="payment", doc_id=payment_id, doc_version=v, kind="post",
                   memo=f"Payment {payment_id} v{v}", lines=_payment_journal(ctx, d))
        mark_dirty(firm, "payment", payment_id, v)
        audit(firm, "edit_payment", "payment", payment_id, f"v{v} {ctx.fmt(d.amount)}")
    return queries.get_payment(firm, payment_id)


def _trust_draws(firm: "Firm", row: dict) -> list[tuple[int | None, int]]:
    """What a payment's current version took from each trust ledger (by matter)."""
    if not row["from_trust"]:
        return []
    return firm.db.execute(
        "SELECT l.matter_id, -sum(l.amount_minor) FROM journal_lines l JOIN journal_entries e ON e.id = l.entry_id "
        "JOIN bank_accounts b ON b.gl_account_id = l.account_id WHERE e.doc_type = 'payment' AND e.doc_id = ? "
        "AND e.doc_version = ? AND e.kind = 'post' AND b.id = ? GROUP BY l.matter_id",
        [row["id"], row["version"], row["trust_bank_account_id"]]).fetchall()


def _trust_unlocked(firm: "Firm", row: dict, problems: list[str]) -> None:
    """A payment from trust dated in a reconciled period of its trust account cannot be reversed there."""
    if row["from_trust"]:
        bank = firm.db.execute("SELECT name FROM bank_accounts WHERE id = ?", [row["trust_bank_account_id"]]).fetchone()
        problem = trust.lock_problem(firm, row["trust_bank_account_id"], row["date"], bank[0])
        if problem:
            problems.append(f"payment {row['id']} from trust: {problem}")


def _minor_text(ctx: _Ctx, minor: int) -> str:
    return format_minor(minor, ctx.currency, grouping=False)


@writes
def delete_payment(firm: "Firm", payment_id: int) -> Payment:
    require_role(firm, "bookkeeper", "delete payments")
    row = live_document(firm, "payments", payment_id, "payment", "id")
    problems: list[str] = []
    _trust_unlocked(firm, row, problems)
    _fail(problems)
    _delete(firm, "payments", "payment", row, str(payment_id))
    return queries.get_payment(firm, payment_id)


# --- credit notes ---------------------------------------------------------------------------------

class _CreditLine(NamedTuple):
    """A priced credit-note line, in the column order of credit_note_lines."""

    description: str
    account_id: int
    tax_rate_id: int | None
    amount_minor: int
    tax_minor: int


@dataclass
class _CreditDraft:
    invoice: dict
    kind: str
    date: str
    lines: list[_CreditLine]
    tax_by_account: dict = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(line.amount_minor + line.tax_minor for line in self.lines)


def _prepare_credit(ctx: _Ctx, invoice_id: int, kind: str, amount, lines, date, problems: list[str],
                    editing_total: int = 0) -> _CreditDraft | None:
    if kind not in ("credit", "writeoff"):
        raise ValidationError(f"kind: '{kind}' is not 'credit' or 'writeoff'")
    inv = live_document(ctx.firm, "invoices", invoice_id, "invoice", "number")
    try:
        date = parse_date(date)
    except ValidationError as exc:
        problems.append(exc.message)
    draft = _CreditDraft(inv, kind, date, [])
    if kind == "writeoff":
        if lines:
            problems.append("A write-off takes an amount, not lines")
            return None
        try:
            minor = ctx.money(amount, "amount")
        except ValidationError as exc:
            problems.append(exc.message)
            return None
        if minor <= 0:
            problems.append("amount must be more than zero")
            return None
        draft.lines.append(_CreditLine(f"Write-off of invoice {inv['number']}",
                                       ctx.subtype_account("bad_debt", "a write-off"), None, minor, 0))
    else:
        if lines is None:
            if amount is None:
                problems.append("A credit note needs an amount or lines")
                return None
            first = ctx.firm.db.execute(
                "SELECT account_id, tax_rate_id FROM invoice_lines WHERE invoice_id = ? AND version = ? "
                "ORDER BY line_no LIMIT 1", [invoice_id, inv["version"]]).fetchone()
            lines = [dict(description=f"Credit against invoice {inv['number']}", account_id=first[0],
                          tax_rate_id=first[1], amount=amount)]
        for n, line in enumerate(lines, 1):
            at = f"line {n}: "
            account_id, rate = ctx.line_refs(line, at, problems)
            try:
                minor = ctx.money(_field(line, "amount"), f"{at}amount")
            except ValidationError as exc:
                problems.append(exc.message)
                continue
            if minor <= 0:
                problems.append(f"{at}amount must be more than zero")
                continue
            if account_id is not None and rate is not None:
                draft.lines.append(_CreditLine(str(_field(line, "description", "") or ""), account_id, rate["id"],
                                               minor, 0))
        priced = compute_tax(ctx.method, [(ln.amount_minor, ln.tax_rate_id) for ln in draft.lines], ctx.components)
        draft.lines = [ln._replace(tax_minor=t) for ln, t in zip(draft.lines, priced.line_tax)]
        draft.tax_by_account = priced.by_account(ctx.components)
    if problems:
        return None
    available = ctx.open_balance(invoice_id) + editing_total
    if draft.total > available:
        problems.append(f"Credit larger than the open balance: invoice {inv['number']} has {ctx.fmt(available)} "
                        f"open; a {'write-off' if kind == 'writeoff' else 'credit'} of {ctx.fmt(draft.total)} "
                        "is not allowed")
        return None
    return draft


def _credit_journal(ctx: _Ctx, d: _CreditDraft) -> list[tuple]:
    c, m, inv_id = d.invoice["client_id"], d.invoice["matter_id"], d.invoice["id"]
    lines = [(ctx.subtype_account("receivable", "a credit note"), -d.total, c, m, inv_id)]
    lines += [(ln.account_id, ln.amount_minor, c, m, None) for ln in d.lines]
    return lines + [(acc, tax, c, m, None) for acc, tax in sorted(d.tax_by_account.items())]


def _insert_credit_lines(firm: "Firm", credit_id: int, version: int, d: _CreditDraft) -> None:
    firm.db.conn.executemany(
        "INSERT INTO credit_note_lines (credit_note_id, version, line_no, description, account_id, tax_rate_id, "
        "amount_minor, tax_minor) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(credit_id, version, n, *line) for n, line in enumerate(d.lines, 1)])


@writes
def issue_credit_note(firm: "Firm", *, invoice_id: int, date, kind: str = "credit", amount=None,
                      lines: list[dict] | None = None) -> CreditNote:
    """A credit (reverses income and tax; lines [{description, account_id, amount, tax_rate_id}] or an
    amount before tax on the invoice's first line's account and rate) or a write-off (amount, to bad debts).
    Never more than the invoice's open balance."""
    require_role(firm, "bookkeeper", "issue credit notes")
    ctx = _Ctx(firm)
    problems: list[str] = []
    d = _prepare_credit(ctx, invoice_id, kind, amount, lines, date, problems)
    _fail(problems)
    prefix = firm.settings.ledger.writeoff_prefix if kind == "writeoff" else firm.settings.ledger.credit_prefix
    seq = f"credit_note:{kind}"
    with firm.db.atomic():
        n = peek_sequence(firm, seq)
        while firm.db.execute("SELECT 1 FROM credit_notes WHERE number = ?", [f"{prefix}{n:05d}"]).fetchone():
            n += 1
        number = f"{prefix}{n:05d}"
        set_sequence(firm, seq, n + 1)
        stamp = now()
        cur = firm.db.execute(
            "INSERT INTO credit_notes (number, kind, invoice_id, client_id, date, currency, version, status, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 1, 'posted', ?, ?)",
            [number, kind, invoice_id, d.invoice["client_id"], d.date, ctx.currency, stamp, stamp])
        cid = cur.lastrowid
        _insert_credit_lines(firm, cid, 1, d)
        post_entry(firm, date=d.date, doc_type="credit_note", doc_id=cid, doc_version=1, kind="post",
                   memo=f"Credit note {number}", lines=_credit_journal(ctx, d))
        mark_dirty(firm, "credit_note", cid, 1)
        audit(firm, "issue_credit_note", "credit_note", cid, f"{number} {ctx.fmt(d.total)}")
    return queries.get_credit_note(firm, cid)


@writes
def edit_credit_note(firm: "Firm", credit_note_id: int, *, date=None, amount=None,
                     lines: list[dict] | None = None) -> CreditNote:
    require_role(firm, "bookkeeper", "edit credit notes")
    row = live_document(firm, "credit_notes", credit_note_id, "credit note", "number")
    current = queries.get_credit_note(firm, credit_note_id)
    ctx = _Ctx(firm)
    problems: list[str] = []
    if amount is None and lines is None:
        lines = None if row["kind"] == "writeoff" else [
            dict(description=ln.description, account_id=ln.account_id, tax_rate_id=ln.tax_rate_id,
                 amount=_minor_text(ctx, ln.amount_minor)) for ln in current.lines]
        if row["kind"] == "writeoff":
            amount = _minor_text(ctx, current.amount_minor)
    d = _prepare_credit(ctx, row["invoice_id"], row["kind"], amount, lines, date or row["date"], problems,
                        editing_total=current.total_minor)
    _fail(problems)
    v = row["version"] + 1
    with firm.db.atomic():
        reverse_version(firm, date=row["date"], doc_type="credit_note", doc_id=credit_note_id, version=row["version"],
                        new_version=v, memo=f"Reversal of credit note {row['number']} v{row['version']}")
        firm.db.execute("UPDATE credit_notes SET date = ?, version = ?, updated_at = ? WHERE id = ?",
                        [d.date, v, now(), credit_note_id])
        _insert_credit_lines(firm, credit_note_id, v, d)
        post_entry(firm, date=d.date, doc_type="credit_note", doc_id=credit_note_id, doc_version=v, kind="post",
                   memo=f"Credit note {row['number']} v{v}", lines=_credit_journal(ctx, d))
        mark_dirty(firm, "credit_note", credit_note_id, v)
        audit(firm, "edit_credit_note", "credit_note", credit_note_id, f"{row['number']} v{v} {ctx.fmt(d.total)}")
    return queries.get_credit_note(firm, credit_note_id)


@writes
def delete_credit_note(firm: "Firm", credit_note_id: int) -> CreditNote:
    require_role(firm, "bookkeeper", "delete credit notes")
    row = live_document(firm, "credit_notes", credit_note_id, "credit note", "number")
    _delete(firm, "credit_notes", "credit_note", row, row["number"])
    return queries.get_credit_note(firm, credit_note_id)
