"""Trust money (client money): receipts, disbursements, refunds, transfers and reversals, per client ledger.

A client ledger is client x matter x trust bank account, derived from the postings to the account's GL account
tagged with the client and matter. No move may take a ledger below zero: a move that names a matter draws on
that matter's ledger; one that names none draws on the client's money in that account, general money (no
matter) first, then the matters in reference order, and its journal lines say which. Payments of the firm's
invoices from trust go through billing (one entry with the payment) and are checked here (`plan_draw`).

Posting rules:
  receipt        Dr trust bank (client, matter)        Cr trust liability (client, matter)
  disbursement   Dr trust liability                    Cr trust bank            (also refund)
  transfer       Dr trust bank B (client, matter)      Cr trust bank A (client, matter)
  reversal       the exact opposite of the document's posting (the document becomes 'reversed', version + 1)

A posting dated on or before a saved reconciliation of the account it touches is refused (`lock_problem`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from core.errors import NotFound, ValidationError
from core.ledger.base import (
    audit,
    firm_row,
    now,
    one_account,
    parse_date,
    post_entry,
    require_role,
    mark_dirty,
    reverse_version,
    writes,
)
from core.ledger.periods import LockedDate, locked_on
from core.ledger.trust_models import TrustOverdraw, TrustTransaction
from core.money import format_minor, parse_amount

if TYPE_CHECKING:
    from core.context import Firm

Ledgers = dict  # matter id (None: no matter) -> balance in minor units, for one client and account


def fmt(minor: int, currency: str) -> str:
    return f"{format_minor(minor, currency)} {currency}"


_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")


def parse_money(value, currency: str, field: str = "amount") -> int:
    """An amount typed by a person: a decimal point, optional thousands commas; a decimal comma is refused."""
    if isinstance(value, str):
        text = value.strip()
        if "," in text and not _GROUPED.match(text):
            raise ValidationError(f"{field}: '{value}' has a decimal comma or misplaced commas; write the amount "
                                  "with a decimal point, e.g. 1234.50")
    return parse_amount(value, currency, field=field)


def positive_money(value, currency: str, field: str = "amount") -> int:
    minor = parse_money(value, currency, field)
    if minor <= 0:
        raise ValidationError(f"{field}: {value} must be more than zero")
    return minor


# --- reads ---------------------------------------------------------------------------------------------

def trust_banks(firm: "Firm") -> dict[int, dict]:
    return {r["id"]: r for r in firm.db.query("SELECT * FROM bank_accounts WHERE kind = 'trust' ORDER BY id")}


def ledgers_of(firm: "Firm", client_id: int, bank_account_id: int) -> Ledgers:
    """The client's ledgers in one trust account, by matter."""
    rows = firm.db.execute(
        "SELECT l.matter_id, sum(l.amount_minor) FROM journal_lines l JOIN bank_accounts b ON b.gl_account_id = "
        "l.account_id WHERE b.id = ? AND l.client_id = ? GROUP BY l.matter_id", [bank_account_id, client_id])
    return {m: s for m, s in rows if s}


def all_ledgers(firm: "Firm", as_of: str | None = None) -> dict[tuple[int, int | None, int], int]:
    """Every client ledger: (client, matter, account) -> balance, optionally as of a date."""
    sql = ("SELECT l.client_id, l.matter_id, b.id, sum(l.amount_minor) FROM journal_lines l "
           "JOIN bank_accounts b ON b.gl_account_id = l.account_id JOIN journal_entries e ON e.id = l.entry_id "
           "WHERE b.kind = 'trust' AND l.client_id IS NOT NULL")
    params: list = []
    if as_of:
        sql += " AND e.date <= ?"
        params.append(as_of)
    rows = firm.db.execute(sql + " GROUP BY l.client_id, l.matter_id, b.id", params)
    return {(c, m, b): s for c, m, b, s in rows}


def book_balance(firm: "Firm", bank_account_id: int, as_of: str | None = None) -> int:
    sql = ("SELECT coalesce(sum(l.amount_minor), 0) FROM journal_lines l JOIN bank_accounts b ON "
           "b.gl_account_id = l.account_id JOIN journal_entries e ON e.id = l.entry_id WHERE b.id = ?")
    params: list = [bank_account_id]
    if as_of:
        sql += " AND e.date <= ?"
        params.append(as_of)
    return firm.db.execute(sql, params).fetchone()[0]


def locked_until(firm: "Firm", bank_account_id: int) -> str | None:
    """The as-of date of the account's latest saved reconciliation: nothing on or before it may change."""
    return firm.db.execute("SELECT max(as_of) FROM trust_reconciliations WHERE bank_account_id = ?",
                           [bank_account_id]).fetchone()[0]


def reconciled(firm: "Firm", bank_account_id: int, what: str, date: str, bank_name: str) -> LockedDate | None:
    """The problem when `date` is in a period a saved reconciliation of the account locks."""
    return locked_on(what, date, locked_until(firm, bank_account_id), "trust_reconciled", bank_name)


def lock_problem(firm: "Firm", bank_account_id: int, date: str, bank_name: str) -> str | None:
    found = reconciled(firm, bank_account_id, "date", date, bank_name)
    return found.text() if found else None


def _transaction(r: dict) -> TrustTransaction:
    return TrustTransaction(
        id=r["id"], kind=r["kind"], client_id=r["client_id"], matter_id=r["matter_id"],
        bank_account_id=r["bank_account_id"], date=r["date"], amount_minor=r["amount_minor"], memo=r["memo"],
        to_bank_account_id=r["to_bank_account_id"], payee=r["payee"], reference=r["reference"],
        currency=r["currency"], version=r["version"], status=r["status"], reversal_date=r["reversal_date"],
        reversal_reason=r["reversal_reason"])


def get_trust_transaction(firm: "Firm", transaction_id: int) -> TrustTransaction:
    rows = list(firm.db.query("SELECT * FROM trust_transactions WHERE id = ?", [transaction_id]))
    if not rows:
        raise NotFound(f"There is no trust transaction with id {transaction_id}")
    return _transaction(rows[0])


def list_trust_transactions(firm: "Firm", client_id: int | None = None, *, matter_id: int | None = None,
                            bank_account_id: int | None = None) -> list[TrustTransaction]:
    sql, params = "SELECT * FROM trust_transactions WHERE 1", []
    for column, value in (("client_id", client_id), ("matter_id", matter_id)):
        if value is not None:
            sql += f" AND {column} = ?"
            params.append(value)
    if bank_account_id is not None:
        sql += " AND (bank_account_id = ? OR to_bank_account_id = ?)"
        params += [bank_account_id, bank_account_id]
    return [_transaction(r) for r in firm.db.query(sql + " ORDER BY date, id", params)]


# --- the overdraw rule ------------------------------------------------------------------------------------

def plan_draw(ledgers: Ledgers, amount: int, matter_id: int | None = None, prefer: tuple = (),
              named: bool = False) -> list[tuple[int | None, int]] | None:
    """Which ledgers (by matter) pay `amount`, or None when that would take one below zero.

    `named`: the move names `matter_id` (None included) and draws on that ledger only. Otherwise it draws on
    the client's whole balance in the account: `prefer` first, then general money, then the matters in order.
    """
    if named:
        return [(matter_id, amount)] if ledgers.get(matter_id, 0) >= amount else None
    if sum(ledgers.values()) < amount:
        return None
    order = [*prefer, None, *sorted((m for m in ledgers if m is not None), key=lambda m: m)]
    plan, left, seen = [], amount, set()
    for m in order:
        if m in seen:
            continue
        seen.add(m)
        take = min(left, max(ledgers.get(m, 0), 0))
        if take:
            plan.append((m, take))
            left -= take
        if not left:
            return plan
    return None


def overdraw(client: str, matter: str | None, named: bool, account: str, balance: int, amount: int,
             currency: str, verb: str = "paid out", where: str = "", first: str = "Trust") -> TrustOverdraw:
    whose = f"for matter {matter}" if matter else ("without a matter" if named else "across its matters")
    message = (f"{where}{first} overdraw: {client} holds {fmt(balance, currency)} in trust; {fmt(amount, currency)} "
               f"cannot be {verb} (account {account}, {whose})")
    return TrustOverdraw(message, client=client, matter=matter, account=account, balance_minor=balance,
                         amount_minor=amount, currency=currency)


# --- writes --------------------------------------------------------------------------------------------

class _Move:
    """A trust move's references, validated; problems collected, nothing written."""

    def __init__(self, firm: "Firm", client_id, matter_id, problems: list[str]):
        self.firm = firm
        self.currency = firm_row(firm)["currency"]
        self.problems = problems
        self.banks = {r["id"]: r for r in firm.db.query("SELECT * FROM bank_accounts")}
        rows = list(firm.db.query("SELECT * FROM contacts WHERE id = ?", [client_id]))
        self.client = rows[0] if rows and rows[0]["kind"] == "client" else None
        if self.client is None:
            problems.append(f"client: there is no client with id {client_id}")
        self.matter = None
        if matter_id is not None:
            rows = list(firm.db.query("SELECT * FROM matters WHERE id = ?", [matter_id]))
            if not rows:
                problems.append(f"matter: there is no matter with id {matter_id}")
            elif rows[0]["client_id"] != client_id:
                problems.append(f"matter: matter {rows[0]['reference']} belongs to another client")
            else:
                self.matter = rows[0]

    def trust_bank(self, bank_account_id, label: str = "bank account") -> dict | None:
        if bank_account_id is None:
            bank = next((b for b in self.banks.values() if b["kind"] == "trust"), None)
            if bank is None:
                self.problems.append("The firm has no trust bank account: add one in Setup › Trust")
            return bank
        bank = self.banks.get(bank_account_id)
        if bank is None:
            self.problems.append(f"{label}: there is no bank account with id {bank_account_id}")
        elif bank["kind"] != "trust":
            self.problems.append(f"{label} {bank['name']} is an operating account; client money goes through a "
                                 "trust bank account")
            return None
        return bank

    def date(self, value) -> str:
        try:
            return parse_date(value)
        except ValidationError as exc:
            self.problems.append(exc.message)
            return ""

    def amount(self, value) -> int:
        try:
            return positive_money(value, self.currency)
        except ValidationError as exc:
            self.problems.append(exc.message)
            return 0

    def unlocked(self, bank: dict | None, date: str) -> None:
        if bank is not None and date:
            problem = lock_problem(self.firm, bank["id"], date, bank["name"])
            if problem:
                self.problems.append(problem)

    def fail(self) -> None:
        if self.problems:
            p = self.problems
            raise ValidationError(p[0] if len(p) == 1 else f"{len(p)} problems: {p[0]}", p)

    @property
    def holder(self) -> dict:
        """The client (a missing one is among the problems `fail` raises)."""
        if self.client is None:
            raise NotFound("client: there is no such client")
        return self.client

    def sure(self, bank: dict | None) -> dict:
        """A trust bank account `trust_bank` found (a missing one is among the problems `fail` raises)."""
        self.fail()
        if bank is None:
            raise ValidationError("bank account: the firm has no such trust bank account")
        return bank

    def draw(self, bank: dict, amount: int, named: bool, verb: str) -> list[tuple[int | None, int]]:
        ledgers = ledgers_of(self.firm, self.holder["id"], bank["id"])
        matter_id = self.matter["id"] if self.matter else None
        plan = plan_draw(ledgers, amount, matter_id, named=named or matter_id is not None)
        if plan is None:
            balance = ledgers.get(matter_id, 0) if (named or matter_id is not None) else sum(ledgers.values())
            raise overdraw(self.holder["name"], self.matter["reference"] if self.matter else None, named,
                           bank["name"], balance, amount, self.currency, verb)
        return plan


def _text(value) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def _insert(firm: "Firm", m: _Move, kind: str, bank: dict, to_bank: dict | None, date: str, amount: int,
            payee, reference, memo, lines: list[tuple]) -> TrustTransaction:
    stamp = now()
    cur = firm.db.execute(
        "INSERT INTO trust_transactions (kind, client_id, matter_id, bank_account_id, to_bank_account_id, date, "
        "amount_minor, currency, payee, reference, memo, version, status, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 'posted', ?, ?) RETURNING id",
        [kind, m.holder["id"], m.matter["id"] if m.matter else None, bank["id"], to_bank["id"] if to_bank else None,
         date, amount, m.currency, _text(payee), _text(reference), memo or "", stamp, stamp])
    tid: int = cur.fetchone()[0]
    what = f"Trust {kind}: {m.holder['name']}" + (f" ({_text(reference)})" if _text(reference) else "")
    post_entry(firm, date=date, doc_type="trust", doc_id=tid, doc_version=1, kind="post", memo=what, lines=lines)
    mark_dirty(firm, "trust", tid, 1)
    audit(firm, f"trust_{kind}", "trust", tid, f"{m.holder['name']} {fmt(amount, m.currency)} {bank['name']}"
          + (f" -> {to_bank['name']}" if to_bank else "") + (f" ref {_text(reference)}" if _text(reference) else ""))
    return get_trust_transaction(firm, tid)


@writes
def trust_receipt(firm: "Firm", *, client_id: int, amount, date, matter_id: int | None = None,
                  bank_account_id: int | None = None, memo: str = "", reference: str | None = None,
                  payee: str | None = None) -> TrustTransaction:
    """Client money received into a trust bank account (default: the firm's first)."""
    require_role(firm, "bookkeeper", "record trust money")
    problems: list[str] = []
    m = _Move(firm, client_id, matter_id, problems)
    day, minor = m.date(date), m.amount(amount)
    bank = m.trust_bank(bank_account_id)
    m.unlocked(bank, day)
    bank = m.sure(bank)
    liability = one_account(firm, "trust_liability", "trust money")
    mid = m.matter["id"] if m.matter else None
    lines = [(bank["gl_account_id"], minor, client_id, mid, None), (liability, -minor, client_id, mid, None)]
    return _insert(firm, m, "receipt", bank, None, day, minor, payee, reference, memo, lines)


def _out(firm: "Firm", kind: str, client_id, amount, date, matter_id, bank_account_id, memo, reference, payee,
         named_matter: bool) -> TrustTransaction:
    require_role(firm, "bookkeeper", "record trust money")
    problems: list[str] = []
    m = _Move(firm, client_id, matter_id, problems)
    day, minor = m.date(date), m.amount(amount)
    bank = m.trust_bank(bank_account_id)
    m.unlocked(bank, day)
    if kind == "disbursement" and payee is not None and not _text(payee):
        problems.append("payee: a disbursement names who is paid")
    bank = m.sure(bank)
    plan = m.draw(bank, minor, named_matter, "paid out")
    liability = one_account(firm, "trust_liability", "trust money")
    lines = []
    for mid, part in plan:
        lines += [(liability, part, client_id, mid, None), (bank["gl_account_id"], -part, client_id, mid, None)]
    if kind == "refund":
        payee = m.holder["name"]
    return _insert(firm, m, kind, bank, None, day, minor, payee, reference, memo, lines)


@writes
def trust_disbursement(firm: "Firm", *, client_id: int, amount, date, matter_id: int | None = None,
                       bank_account_id: int | None = None, memo: str = "", payee: str | None = None,
                       reference: str | None = None, named_matter: bool = False) -> TrustTransaction:
    """Client money paid out of trust to a third party (payee); never more than the client ledger holds."""
    return _out(firm, "disbursement", client_id, amount, date, matter_id, bank_account_id, memo, reference, payee,
                named_matter)


@writes
def trust_refund(firm: "Firm", *, client_id: int, amount, date, matter_id: int | None = None,
                 bank_account_id: int | None = None, memo: str = "", reference: str | None = None,
                 named_matter: bool = False) -> TrustTransaction:
    """Client money returned to the client; never more than the client ledger holds."""
    return _out(firm, "refund", client_id, amount, date, matter_id, bank_account_id, memo, reference, None,
                named_matter)


@writes
def trust_transfer(firm: "Firm", *, client_id: int, amount, date, from_account_id: int, to_account_id: int,
                   matter_id: int | None = None, memo: str = "", reference: str | None = None,
                   named_matter: bool = False) -> TrustTransaction:
    """The client's money moved between two trust bank accounts (matters kept as they are)."""
    require_role(firm, "bookkeeper", "record trust money")
    problems: list[str] = []
    m = _Move(firm, client_id, matter_id, problems)
    day, minor = m.date(date), m.amount(amount)
    bank = m.trust_bank(from_account_id, "from account")
    to_bank = m.trust_bank(to_account_id, "to account")
    if bank is not None and to_bank is not None and bank["id"] == to_bank["id"]:
        problems.append(f"to account: a transfer needs two different trust accounts; both are {bank['name']}")
    m.unlocked(bank, day)
    m.unlocked(to_bank, day)
    bank, to_bank = m.sure(bank), m.sure(to_bank)
    plan = m.draw(bank, minor, named_matter, "transferred")
    lines = []
    for mid, part in plan:
        lines += [(to_bank["gl_account_id"], part, client_id, mid, None),
                  (bank["gl_account_id"], -part, client_id, mid, None)]
    return _insert(firm, m, "transfer", bank, to_bank, day, minor, None, reference, memo, lines)


@writes
def reverse_trust(firm: "Firm", transaction_id: int, *, reason: str, date=None) -> TrustTransaction:
    """Correct a trust document: post the exact opposite of its posting (dated `date`, default its own date)
    and mark it reversed. Refused if that would take a client ledger below zero."""
    require_role(firm, "bookkeeper", "reverse trust money")
    t = get_trust_transaction(firm, transaction_id)
    problems: list[str] = []
    if t.status == "reversed":
        raise ValidationError(f"Trust {t.kind} {t.id} was already reversed on {t.reversal_date}")
    if not _text(reason):
        problems.append("reason: say why the trust transaction is reversed")
    m = _Move(firm, t.client_id, None, problems)
    day = m.date(date) if date else t.date
    if day and day < t.date:
        problems.append(f"date: a reversal cannot be dated {day}, before the transaction itself ({t.date})")
    for bid in (t.bank_account_id, t.to_bank_account_id):
        if bid is not None:
            m.unlocked(m.banks[bid], day)
    m.fail()
    rows = firm.db.execute(
        "SELECT b.id, l.matter_id, sum(l.amount_minor) FROM journal_lines l JOIN journal_entries e ON e.id = "
        "l.entry_id JOIN bank_accounts b ON b.gl_account_id = l.account_id WHERE e.doc_type = 'trust' AND "
        "e.doc_id = ? AND e.doc_version = ? AND e.kind = 'post' GROUP BY b.id, l.matter_id",
        [t.id, t.version]).fetchall()
    for bid, mid, posted in rows:
        if posted <= 0:
            continue
        held = ledgers_of(firm, t.client_id, bid).get(mid, 0)
        if held < posted:
            ref = firm.db.execute("SELECT reference FROM matters WHERE id = ?", [mid]).fetchone() if mid else None
            raise overdraw(m.holder["name"], ref[0] if ref else None, True, m.banks[bid]["name"], held, posted,
                           m.currency, "taken back by the reversal")
    v = t.version + 1
    reverse_version(firm, date=day, doc_type="trust", doc_id=t.id, version=t.version, new_version=v,
                    memo=f"Reversal of trust {t.kind} {t.id}: {_text(reason)}")
    firm.db.execute("UPDATE trust_transactions SET status = 'reversed', version = ?, reversal_date = ?, "
                    "reversal_reason = ?, updated_at = ? WHERE id = ?", [v, day, _text(reason), now(), t.id])
    mark_dirty(firm, "trust", t.id, v, "delete")  # its QBO JournalEntry is deleted (README: Trust in QuickBooks)
    audit(firm, "trust_reversal", "trust", t.id, f"{t.kind} {fmt(t.amount_minor, m.currency)}: {_text(reason)}")
    return get_trust_transaction(firm, t.id)
