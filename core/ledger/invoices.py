"""Invoices: post (one or many), edit (reversal plus a new posting) and delete.

  invoice      Dr receivable (total)            Cr income per line, Cr sales tax per component account
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable, NamedTuple

from core.errors import Conflict, ValidationError
from core.ledger import queries
from core.ledger.base import (
    JournalLine,
    OUTBOX_SQL,
    audit,
    audit_many,
    half_up_div,
    live_document,
    mark_dirty,
    next_id,
    now,
    parse_date,
    parse_quantity,
    peek_sequence,
    post_entry,
    require_role,
    reverse_version,
    set_sequence,
    writes,
)
from core.ledger.billing_common import _KEEP, _Ctx, _check_entries_balance, _delete, _fail, _field, _one, _ready
from core.ledger.locks import locked_problems
from core.ledger.models import Invoice
from core.ledger.tax import compute as compute_tax
from core.text import counted

if TYPE_CHECKING:
    from core.context import Firm


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
    priced_lines: list[_Line] = []
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
        priced_lines.append(_Line(desc, account_id, rate["id"], qty, price, half_up_div(qty * price, 1000), 0))
    priced = compute_tax(ctx.method, [(ln.amount_minor, ln.tax_rate_id) for ln in priced_lines], ctx.components)
    draft.lines = [ln._replace(tax_minor=t) for ln, t in zip(priced_lines, priced.line_tax)]
    draft.tax_by_account = priced.by_account(ctx.components)


def _invoice_journal(ctx: _Ctx, draft: _InvoiceDraft, invoice_id: int, ar: int) -> list[JournalLine]:
    c, m = draft.client_id, draft.matter_id
    lines: list[JournalLine] = [(ar, draft.total, c, m, invoice_id)]
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
    prepared = [_prepare_invoice(ctx, s, problems, f"invoice {i}: " if len(specs) > 1 else "")
                for i, s in enumerate(specs, 1)]
    _number_problems(firm, specs, problems)
    problems += locked_problems(firm, [(f"Invoice {d.number or i}" if d.number or len(prepared) > 1 else "The invoice",
                                        d.date) for i, d in enumerate(prepared, 1) if d])
    _fail(problems)
    drafts = _ready(prepared)
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
    prepared: _InvoiceDraft | None
    if lines is None:
        prepared = _keep_lines_draft(firm, ctx, inv, date, due_date, matter_id, problems)
    else:
        spec = dict(client_id=inv["client_id"], matter_id=inv["matter_id"] if matter_id is _KEEP else matter_id,
                    date=date or inv["date"], due_date=due_date or _same_terms(inv, date), lines=lines)
        prepared = _prepare_invoice(ctx, spec, problems)
    _fail(problems)
    draft = _one(prepared)
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
