"""Credit notes and write-offs against one invoice: issue, edit (reversal plus a new posting) and delete.

  credit       Dr income per line, Dr tax       Cr receivable (invoice)
  write-off    Dr bad debts (net per rate),     Cr receivable (invoice, gross)
               Dr tax per component account
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple, Sequence

from core.errors import ValidationError
from core.ledger import queries
from core.ledger.base import (
    JournalLine,
    audit,
    live_document,
    mark_dirty,
    now,
    parse_date,
    peek_sequence,
    post_entry,
    require_role,
    reverse_version,
    set_sequence,
    writes,
)
from core.ledger.billing_writeoff import open_by_rate, split_writeoff
from core.ledger.billing_common import _Ctx, _delete, _fail, _field, _minor_text, _one
from core.ledger.models import CreditNote, CreditNoteLine
from core.ledger.tax import compute as compute_tax

if TYPE_CHECKING:
    from core.context import Firm


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


def _price(ctx: _Ctx, draft: _CreditDraft) -> None:
    """Each line's tax and the tax per liability account, as QBO prices the credit memo (untaxed lines: none)."""
    rated = [k for k, ln in enumerate(draft.lines) if ln.tax_rate_id is not None]
    priced = compute_tax(ctx.method, [(draft.lines[k].amount_minor, draft.lines[k].tax_rate_id or 0) for k in rated],
                         ctx.components)
    for k, tax in zip(rated, priced.line_tax):
        draft.lines[k] = draft.lines[k]._replace(tax_minor=tax)
    draft.tax_by_account = priced.by_account(ctx.components)


def _writeoff_lines(ctx: _Ctx, draft: _CreditDraft, minor: int, editing_id: int | None) -> None:
    """The write-off of `minor` (gross) split over the invoice's rates (core.ledger.billing_writeoff), priced."""
    inv = draft.invoice
    bad_debt = ctx.subtype_account("bad_debt", "a write-off")
    open_rates = open_by_rate(ctx.firm, inv["id"], inv["version"], editing_id)
    for attempt in (open_rates, open_rates._replace(untouched={})):
        parts = split_writeoff(ctx.method, minor, attempt, ctx.components)
        several = len(parts) > 1
        draft.lines = [_CreditLine(f"Write-off of invoice {inv['number']}"
                                   + (f" ({_rate_name(ctx, p.tax_rate_id)})" if several else ""),
                                   bad_debt, p.tax_rate_id, p.net_minor, 0) for p in parts]
        _price(ctx, draft)
        if draft.total == minor:
            return
    raise ValidationError(f"The write-off of {ctx.fmt(minor)} on invoice {inv['number']} cannot be split over its "
                          f"tax rates exactly (it came to {ctx.fmt(draft.total)}); check the invoice's tax rates")


def _rate_name(ctx: _Ctx, rate_id: int | None) -> str:
    return "untaxed" if rate_id is None else ctx.tax_rates[rate_id]["name"]


def _prepare_credit(ctx: _Ctx, invoice_id: int, kind: str, amount, lines, date, problems: list[str],
                    editing_total: int = 0, editing_id: int | None = None,
                    keep: "Sequence[CreditNoteLine]" = ()) -> _CreditDraft | None:
    """A credit note or write-off checked and priced; `keep`: a write-off's current lines, kept as they are
    (an edit of its date only: a write-off from before write-offs carried tax keeps its one untaxed line)."""
    if kind not in ("credit", "writeoff"):
        raise ValidationError(f"kind: '{kind}' is not 'credit' or 'writeoff'")
    inv = live_document(ctx.firm, "invoices", invoice_id, "invoice", "number")
    try:
        date = parse_date(date)
    except ValidationError as exc:
        problems.append(exc.message)
    draft = _CreditDraft(inv, kind, date, [])
    if kind == "writeoff" and keep:
        draft.lines = [_CreditLine(ln.description, ln.account_id, ln.tax_rate_id, ln.amount_minor, 0) for ln in keep]
        _price(ctx, draft)
    elif kind == "writeoff":
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
        if problems:
            return None
        if minor > ctx.open_balance(invoice_id) + editing_total:
            draft.lines = [_CreditLine("", 0, None, minor, 0)]  # only its total, for the message below
        else:
            _writeoff_lines(ctx, draft, minor, editing_id)
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
        _price(ctx, draft)
    if problems:
        return None
    available = ctx.open_balance(invoice_id) + editing_total
    if draft.total > available:
        problems.append(f"Credit larger than the open balance: invoice {inv['number']} has {ctx.fmt(available)} "
                        f"open; a {'write-off' if kind == 'writeoff' else 'credit'} of {ctx.fmt(draft.total)} "
                        "is not allowed")
        return None
    return draft


def _credit_journal(ctx: _Ctx, d: _CreditDraft) -> list[JournalLine]:
    c, m, inv_id = d.invoice["client_id"], d.invoice["matter_id"], d.invoice["id"]
    lines: list[JournalLine] = [(ctx.subtype_account("receivable", "a credit note"), -d.total, c, m, inv_id)]
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
    amount before tax on the invoice's first line's account and rate) or a write-off (the gross amount: net to
    bad debts and the output tax reversed per rate of the invoice, core.ledger.billing_writeoff).
    Never more than the invoice's open balance."""
    require_role(firm, "bookkeeper", "issue credit notes")
    ctx = _Ctx(firm)
    problems: list[str] = []
    prepared = _prepare_credit(ctx, invoice_id, kind, amount, lines, date, problems)
    _fail(problems)
    d = _one(prepared)
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
        cid = int(cur.lastrowid or 0)
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
    keep = current.lines if row["kind"] == "writeoff" and amount is None else ()
    prepared = _prepare_credit(ctx, row["invoice_id"], row["kind"], amount, lines, date or row["date"], problems,
                               editing_total=current.total_minor, editing_id=credit_note_id, keep=keep)
    _fail(problems)
    d = _one(prepared)
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
