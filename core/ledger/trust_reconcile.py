"""Three-way reconciliation of one trust bank account as of a date.

  (1) the bank statement balance (every imported line up to the date), plus outstanding deposits, less
      outstanding cheques (ledger items up to the date not cleared by a statement line up to the date);
  (2) the account's book balance (its GL account);
  (3) the sum of the client ledgers of that account.
It balances when (1) = (2) = (3), every statement line is matched and no client ledger is below zero. A balanced
reconciliation is saved (append-only, audit-logged): postings, statement lines and matches dated on or before its
date are then refused for that account.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import ValidationError
from core.ledger.base import audit, firm_row, now, parse_date, require_role, transaction
from core.ledger.periods import on_or_before
from core.ledger.trust import all_ledgers, book_balance, locked_until
from core.ledger.trust_statement import LedgerItem, StatementLine, _trust_bank, ledger_items, statement_lines
from core.money import format_minor

if TYPE_CHECKING:
    from core.context import Firm


@dataclass(frozen=True)
class Difference:
    code: str  # 'bank_vs_book' | 'book_vs_clients' | 'unmatched_statement_line' | 'negative_client_ledger' | 'no_statement'
    amount_minor: int
    detail: dict  # the fields it concerns (figures, statement line, client ledger)

    def as_json(self) -> dict:
        return {"code": self.code, "amount_minor": self.amount_minor, **self.detail}


@dataclass(frozen=True)
class Reconciliation:
    bank_account_id: int
    account: str
    as_of: str
    currency: str
    statement_minor: int
    outstanding_deposits: tuple[LedgerItem, ...]
    outstanding_cheques: tuple[LedgerItem, ...]
    book_minor: int
    clients_minor: int
    client_ledgers: tuple[dict, ...]  # {client_id, client, matter_id, matter, balance_minor}
    unmatched_lines: tuple[StatementLine, ...]
    differences: tuple[Difference, ...]
    saved_id: int | None = None
    locked_until: str | None = None

    @property
    def deposits_minor(self) -> int:
        return sum(i.amount_minor for i in self.outstanding_deposits)

    @property
    def cheques_minor(self) -> int:
        return -sum(i.amount_minor for i in self.outstanding_cheques)

    @property
    def adjusted_bank_minor(self) -> int:
        return self.statement_minor + self.deposits_minor - self.cheques_minor

    @property
    def ok(self) -> bool:
        return not self.differences

    def as_json(self) -> dict:
        return {
            "ok": self.ok, "bank_account_id": self.bank_account_id, "account": self.account, "as_of": self.as_of,
            "currency": self.currency, "statement_minor": self.statement_minor,
            "outstanding_deposits_minor": self.deposits_minor, "outstanding_cheques_minor": self.cheques_minor,
            "adjusted_bank_minor": self.adjusted_bank_minor, "book_minor": self.book_minor,
            "clients_minor": self.clients_minor,
            "outstanding_deposits": [i.as_json() for i in self.outstanding_deposits],
            "outstanding_cheques": [i.as_json() for i in self.outstanding_cheques],
            "unmatched_statement_lines": [x.as_json() for x in self.unmatched_lines],
            "client_ledgers": list(self.client_ledgers),
            "differences": [d.as_json() for d in self.differences],
            "saved_id": self.saved_id, "locked_until": self.locked_until,
        }

    def _m(self, minor: int) -> str:
        return format_minor(minor, self.currency)

    def to_text(self) -> str:
        w = 44
        row = lambda label, minor: f"  {label:<{w}}{self._m(minor):>16}"  # noqa: E731
        out = [f"Three-way trust reconciliation: {self.account}, as of {self.as_of} ({self.currency})",
               "RECONCILED" + (f" (saved as reconciliation {self.saved_id})" if self.saved_id else "")
               if self.ok else "DOES NOT BALANCE", "",
               "(1) Bank", row("Statement balance", self.statement_minor),
               row("+ outstanding deposits", self.deposits_minor), row("- outstanding cheques", self.cheques_minor),
               row("= adjusted bank balance", self.adjusted_bank_minor),
               "(2) Books", row("Trust account book balance", self.book_minor),
               "(3) Clients", row("Sum of client ledgers", self.clients_minor), ""]
        for title, items in (("Outstanding deposits", self.outstanding_deposits),
                             ("Outstanding cheques and payments", self.outstanding_cheques)):
            out.append(f"{title}: {len(items)}")
            out += [f"  {i.date}  entry {i.entry_id:<6} {self._m(i.amount_minor):>14}  {i.reference or ''}  {i.memo}"
                    + ("  (marked outstanding)" if i.marked_outstanding else "") for i in items]
        out.append(f"Unmatched statement lines: {len(self.unmatched_lines)}")
        out += [f"  {x.date}  {x.file_name} row {x.row:<4} {self._m(x.amount_minor):>14}  {x.description}"
                for x in self.unmatched_lines]
        out.append(f"Client ledgers: {len(self.client_ledgers)}")
        out += [f"  {c['client']:<30} {c['matter'] or '(no matter)':<14} {self._m(c['balance_minor']):>14}"
                for c in self.client_ledgers]
        out.append(f"Differences: {len(self.differences)}")
        out += [f"  {render(d, self.currency)}" for d in self.differences]
        return "\n".join(out) + "\n"

    def to_csv(self) -> str:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["section", "date", "id", "description", "reference", "amount"])
        for label, minor in (("statement_balance", self.statement_minor),
                             ("outstanding_deposits", self.deposits_minor),
                             ("outstanding_cheques", -self.cheques_minor),
                             ("adjusted_bank_balance", self.adjusted_bank_minor), ("book_balance", self.book_minor),
                             ("client_ledgers", self.clients_minor)):
            w.writerow([label, self.as_of, "", "", "", self._m(minor).replace(",", "")])
        for section, items in (("outstanding_deposit", self.outstanding_deposits),
                               ("outstanding_cheque", self.outstanding_cheques)):
            for i in items:
                w.writerow([section, i.date, f"entry {i.entry_id}", i.memo, i.reference or "",
                            self._m(i.amount_minor).replace(",", "")])
        for x in self.unmatched_lines:
            w.writerow(["unmatched_statement_line", x.date, f"{x.file_name} row {x.row}", x.description,
                        x.reference or "", self._m(x.amount_minor).replace(",", "")])
        for c in self.client_ledgers:
            w.writerow(["client_ledger", self.as_of, c["client_id"], f"{c['client']} {c['matter'] or ''}".strip(), "",
                        self._m(c["balance_minor"]).replace(",", "")])
        for d in self.differences:
            w.writerow(["difference", self.as_of, d.code, render(d, self.currency), "",
                        self._m(d.amount_minor).replace(",", "")])
        return buf.getvalue()


def render(d: Difference, currency: str) -> str:
    """A difference as a sentence (the edge: text report, CLI, TUI)."""
    m = lambda minor: f"{format_minor(minor, currency)} {currency}"  # noqa: E731
    if d.code == "bank_vs_book":
        return (f"adjusted bank balance {m(d.detail['adjusted_bank_minor'])} differs from the book balance "
                f"{m(d.detail['book_minor'])} by {m(d.amount_minor)}")
    if d.code == "book_vs_clients":
        return (f"book balance {m(d.detail['book_minor'])} differs from the sum of client ledgers "
                f"{m(d.detail['clients_minor'])} by {m(d.amount_minor)}")
    if d.code == "unmatched_statement_line":
        return (f"statement line {d.detail['file']} row {d.detail['row']} ({d.detail['date']}, "
                f"{d.detail['description']}, {m(d.amount_minor)}) matches no ledger entry: record it in the ledger "
                "(`ledgerlink trust ...`) or match it by hand (`ledgerlink trust statement match`)")
    if d.code == "negative_client_ledger":
        return f"client ledger {d.detail['client']} {d.detail['matter'] or '(no matter)'} is below zero: {m(d.amount_minor)}"
    return f"no bank statement is imported for {d.detail['account']} up to {d.detail['as_of']}: " \
           "`ledgerlink trust statement import`"


def not_after_today(as_of: str, today: dt.date | None = None) -> None:
    """A reconciliation is of a day the bank has reported on: never after today."""
    day = (today or dt.date.today()).isoformat()
    if as_of > day:
        raise ValidationError(f"--as-of: {as_of} is after today ({day}); a trust account is reconciled as of a day "
                              f"its bank statement covers: {day} or earlier")


def compute(firm: "Firm", bank_account_id: int, as_of, *, today: dt.date | None = None) -> Reconciliation:
    as_of = parse_date(as_of, "--as-of")
    not_after_today(as_of, today)
    bank = _trust_bank(firm, bank_account_id)
    cur = firm_row(firm)["currency"]
    lines = statement_lines(firm, bank_account_id, as_of)
    items = ledger_items(firm, bank_account_id, as_of)
    cleared_lines = {x.id for x in lines}
    outstanding = [i for i in items if i.line_id is None or i.line_id not in cleared_lines]
    item_ids = {i.entry_id for i in items}
    unmatched = tuple(x for x in lines if x.entry_id is None or x.entry_id not in item_ids)
    names = dict(firm.db.execute("SELECT id, name FROM contacts"))
    refs = dict(firm.db.execute("SELECT id, reference FROM matters"))
    ledgers = tuple({"client_id": c, "client": names.get(c, str(c)), "matter_id": m, "matter": refs.get(m),
                     "balance_minor": v}
                    for (c, m, b), v in sorted(all_ledgers(firm, as_of).items(),
                                               key=lambda kv: (names.get(kv[0][0], ""), refs.get(kv[0][1]) or ""))
                    if b == bank_account_id and v)
    r = Reconciliation(bank_account_id, bank["name"], as_of, cur, sum(x.amount_minor for x in lines),
                       tuple(i for i in outstanding if i.amount_minor > 0),
                       tuple(i for i in outstanding if i.amount_minor < 0), book_balance(firm, bank_account_id, as_of),
                       sum(c["balance_minor"] for c in ledgers), ledgers, unmatched, (),
                       locked_until=locked_until(firm, bank_account_id))
    diffs = []
    if not lines:
        diffs.append(Difference("no_statement", 0, {"account": bank["name"], "as_of": as_of}))
    if r.adjusted_bank_minor != r.book_minor:
        diffs.append(Difference("bank_vs_book", r.adjusted_bank_minor - r.book_minor,
                                {"adjusted_bank_minor": r.adjusted_bank_minor, "book_minor": r.book_minor}))
    if r.book_minor != r.clients_minor:
        diffs.append(Difference("book_vs_clients", r.book_minor - r.clients_minor,
                                {"book_minor": r.book_minor, "clients_minor": r.clients_minor}))
    diffs += [Difference("unmatched_statement_line", x.amount_minor,
                         {"statement_line_id": x.id, "file": x.file_name, "row": x.row, "date": x.date,
                          "description": x.description}) for x in unmatched]
    diffs += [Difference("negative_client_ledger", c["balance_minor"], {"client": c["client"], "matter": c["matter"]})
              for c in ledgers if c["balance_minor"] < 0]
    return _replace(r, differences=tuple(diffs))


def _replace(r: Reconciliation, **kw) -> Reconciliation:
    from dataclasses import replace

    return replace(r, **kw)


def reconcile(firm: "Firm", bank_account_id: int, as_of, *, save: bool = True,
              today: dt.date | None = None) -> Reconciliation:
    """Compute the reconciliation; a balanced one dated after the account's last saved one is saved."""
    if not save:
        return compute(firm, bank_account_id, as_of, today=today)
    require_role(firm, "bookkeeper", "reconcile trust accounts")
    with transaction(firm):
        r = compute(firm, bank_account_id, as_of, today=today)
        if not r.ok or on_or_before(r.as_of, r.locked_until):
            return r
        cur = firm.db.execute(
            "INSERT INTO trust_reconciliations (bank_account_id, as_of, statement_minor, outstanding_deposits_minor, "
            "outstanding_cheques_minor, adjusted_bank_minor, book_minor, clients_minor, report_json, created_at, "
            "created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [bank_account_id, r.as_of, r.statement_minor, r.deposits_minor, r.cheques_minor, r.adjusted_bank_minor,
             r.book_minor, r.clients_minor, json.dumps(r.as_json(), sort_keys=True), now(), firm.user])
        audit(firm, "trust_reconcile", "trust_reconciliation", cur.lastrowid,
              f"{r.account} as of {r.as_of}: {format_minor(r.book_minor, r.currency)} {r.currency}")
        return _replace(r, saved_id=cur.lastrowid, locked_until=r.as_of)


def export(r: Reconciliation, directory: str | Path) -> list[Path]:
    """Write the report as plain text and CSV into `directory`; returns the files."""
    d = Path(directory).expanduser()
    d.mkdir(parents=True, exist_ok=True)
    slug = re.sub(r"[^a-z0-9]+", "-", r.account.lower()).strip("-") or "trust"
    base = d / f"trust-reconciliation-{slug}-{r.as_of}"
    txt, csv_path = base.with_suffix(".txt"), base.with_suffix(".csv")
    txt.write_text(r.to_text(), encoding="utf-8")
    csv_path.write_text(r.to_csv(), encoding="utf-8")
    return [txt, csv_path]
