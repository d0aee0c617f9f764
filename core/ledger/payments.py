"""Payments: record (one or many), edit and delete; allocation to invoices, credit on account, paying from trust.

  payment      Dr operating bank                Cr receivable per allocated invoice (the excess: of no invoice)
  from trust   + Dr trust liability (client)    Cr trust bank (client)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Iterable

from core.errors import ValidationError
from core.ledger import queries, trust
from core.ledger.base import (
    JournalLine,
    OUTBOX_SQL,
    audit,
    audit_many,
    live_document,
    mark_dirty,
    next_id,
    now,
    parse_date,
    post_entry,
    require_role,
    reverse_version,
    writes,
)
from core.ledger.billing_common import (
    _KEEP,
    _Ctx,
    _check_entries_balance,
    _delete,
    _fail,
    _field,
    _minor_text,
    _one,
    _ready,
)
from core.ledger.locks import locked_problems
from core.ledger.models import Payment

if TYPE_CHECKING:
    from core.context import Firm


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
            name = (ctx.client(d.client_id, problems) or {}).get("name")
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
    if len(problems) > before or allocations is None:
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


def _payment_journal(ctx: _Ctx, d: _PaymentDraft) -> list[JournalLine]:
    ar = ctx.subtype_account("receivable", "a payment")
    lines: list[JournalLine] = [(ctx.banks[d.bank_account_id]["gl_account_id"], d.amount, d.client_id, None, None)]
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
    prepared = [_prepare_payment(ctx, s, problems, f"payment {i}: " if len(specs) > 1 else "")
                for i, s in enumerate(specs, 1)]
    _no_trust_credit(ctx, prepared, problems, len(specs) > 1)
    problems += locked_problems(firm, [(f"Payment {i}" if len(prepared) > 1 else "The payment", d.date)
                                       for i, d in enumerate(prepared, 1) if d])
    _fail(problems)
    drafts = _ready(prepared)
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
    prepared = _prepare_payment(ctx, spec, problems, editing=editing)
    _no_trust_credit(ctx, [prepared], problems, False)
    _fail(problems)
    d = _one(prepared)
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



@writes
def delete_payment(firm: "Firm", payment_id: int) -> Payment:
    require_role(firm, "bookkeeper", "delete payments")
    row = live_document(firm, "payments", payment_id, "payment", "id")
    problems: list[str] = []
    _trust_unlocked(firm, row, problems)
    _fail(problems)
    _delete(firm, "payments", "payment", row, str(payment_id))
    return queries.get_payment(firm, payment_id)
