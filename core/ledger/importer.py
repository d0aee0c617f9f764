"""CSV imports: all or nothing per file, every bad row reported with its row and column.

Row numbers count the header as row 1, as a spreadsheet shows them. Formats (header names):
  accounts   code, name, type, subtype (optional, default general)
  clients    name, email, phone, address, matter (optional: opens a matter; repeat the client for more)
  invoices   number, client, matter (reference or name, optional), date, due_date (optional), description,
             account_code, quantity, unit_price, tax_rate (name); one row per line, rows grouped by number
  payments   client, date, amount, bank_account (name), invoice_number (optional: oldest first), reference
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from core.errors import ImportError_, LedgerError
from core.ledger import billing, firm as firm_ops
from core.ledger.base import currency as firm_currency, parse_date, transaction
from core.money import parse_amount
from core.text import counted

if TYPE_CHECKING:
    from core.context import Firm

COLUMNS = {
    "accounts": (("code", "name", "type"), ("subtype",)),
    "clients": (("name",), ("email", "phone", "address", "matter")),
    "invoices": (("number", "client", "date", "description", "account_code", "quantity", "unit_price", "tax_rate"),
                 ("matter", "due_date")),
    "payments": (("client", "date", "amount", "bank_account"), ("invoice_number", "reference")),
}
# Words in a ledger message -> the CSV column they are about (first match wins).
_COLUMN_WORDS = {
    "invoices": (("invoice number", "number"), ("unit price", "unit_price"), ("quantity", "quantity"),
                 ("tax rate", "tax_rate"), ("account", "account_code"), ("due date", "due_date"),
                 ("matter", "matter"), ("client", "client"), ("date", "date")),
    "payments": (("overpayment", "amount"), ("trust", "amount"), ("bank account", "bank_account"), ("invoice", "invoice_number"), ("client", "client"),
                 ("date", "date"), ("", "amount")),
    "accounts": (("subtype", "subtype"), ("type", "type"), ("name", "name"), ("", "code")),
    "clients": (("matter", "matter"), ("", "name")),
}
_LINE = re.compile(r"^(?:line|allocation) (\d+): ")


class _Report:
    def __init__(self, kind: str):
        self.kind = kind
        self.problems: list[str] = []

    def add(self, row: int, column: str, message: str) -> None:
        self.problems.append(f"row {row}, column {column}: {message}")

    def from_error(self, rows: list[int], exc: LedgerError) -> None:
        for problem in getattr(exc, "problems", None) or [exc.message]:
            row = rows[0]
            m = _LINE.match(problem)
            if m and self.kind == "invoices" and int(m.group(1)) <= len(rows):
                row = rows[int(m.group(1)) - 1]
            low = problem.lower()
            column = next(col for word, col in _COLUMN_WORDS[self.kind] + (("", "-"),) if word in low)
            self.add(row, column, problem)


def read_csv(path: Path | str, kind: str) -> list[tuple[int, dict]]:
    """(row number, {column: text}) for each data row; a missing required column is reported at row 1."""
    if kind not in COLUMNS:
        raise ImportError_(f"Cannot import '{kind}': choose one of {', '.join(COLUMNS)}")
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ImportError_(f"Cannot read {path}: {exc.strerror}") from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    required, _optional = COLUMNS[kind]
    lacking = [c for c in required if c not in header]
    if lacking:
        problems = [f"row 1, column {c}: the header has no '{c}' column" for c in lacking]
        raise ImportError_(f"{path}: {problems[0]}", problems)
    rows = []
    for n, raw in enumerate(reader, 2):
        rows.append((n, {(k or "").strip(): (v or "").strip() for k, v in raw.items() if k is not None}))
    return rows


def import_csv(firm: "Firm", kind: str, path: Path | str) -> int:
    """Import one file; returns how many records were created. Raises ImportError_ listing every bad row."""
    rows = read_csv(path, kind)
    report = _Report(kind)
    with transaction(firm):
        count = IMPORTERS[kind](firm, rows, report)
        if report.problems:
            raise ImportError_(f"{path}: nothing was imported, {counted(len(report.problems), 'problem')}; "
                               f"first: {report.problems[0]}", report.problems)
    return count


def _accounts(firm: "Firm", rows, report: _Report) -> int:
    count = 0
    for n, r in rows:
        try:
            firm_ops.add_account(firm, code=r["code"], name=r["name"], type=r["type"],
                                 subtype=r.get("subtype") or "general")
            count += 1
        except LedgerError as exc:
            report.from_error([n], exc)
    return count


def _clients(firm: "Firm", rows, report: _Report) -> int:
    count = 0
    ids: dict[str, int] = {r[1]: r[0] for r in firm.db.execute("SELECT id, name FROM contacts WHERE kind = 'client'")}
    for n, r in rows:
        try:
            if r["name"] not in ids:
                ids[r["name"]] = firm_ops.add_client(
                    firm, r["name"], email=r.get("email") or None, phone=r.get("phone") or None,
                    address=r.get("address") or None).id
                count += 1
            if r.get("matter"):
                firm_ops.add_matter(firm, ids[r["name"]], r["matter"])
        except LedgerError as exc:
            report.from_error([n], exc)
    return count


def _near(value: str, known) -> str:
    """': did you mean 'X'?' when one known name is close to a mistyped one, else ''."""
    close = difflib.get_close_matches(value, list(known), n=1, cutoff=0.75)
    return f": did you mean '{close[0]}'?" if close else ""


def _lookup(firm: "Firm", sql: str) -> dict[str, int]:
    return {name: id_ for id_, name in firm.db.execute(sql)}


def _invoices(firm: "Firm", rows, report: _Report) -> int:
    clients = _lookup(firm, "SELECT id, name FROM contacts WHERE kind = 'client'")
    matters = _lookup(firm, "SELECT id, reference FROM matters")
    # the clients CSV opens matters by name, so a matter may be named as well as given by its reference
    matter_names: dict[tuple[int, str], list[int]] = {}
    for id_, client_id, name in firm.db.execute("SELECT id, client_id, name FROM matters"):
        matter_names.setdefault((client_id, name), []).append(id_)
    accounts = _lookup(firm, "SELECT id, code FROM accounts")
    rates = _lookup(firm, "SELECT id, name FROM tax_rates")
    groups: dict[str, list[tuple[int, dict]]] = {}
    for n, r in rows:
        if not r["number"]:
            report.add(n, "number", "every line needs the number of its invoice")
            continue
        groups.setdefault(r["number"], []).append((n, r))
    count = 0
    for number, group in groups.items():
        first_n, first = group[0]
        ok = True
        for column, table, where in (("client", clients, "client"),):
            if first[column] not in table:
                report.add(first_n, column, f"there is no {where} named '{first[column]}'" + _near(first[column], table))
                ok = False
        matter = first.get("matter") or ""
        matter_id = matters.get(matter)
        if matter and matter_id is None:
            named = matter_names.get((clients.get(first["client"]), matter), [])
            if len(named) == 1:
                matter_id = named[0]
            else:
                report.add(first_n, "matter", f"there is no matter with reference '{matter}'"
                           + (f" and {first['client']} has {len(named)} matters named so" if named else
                              f" or named so for client '{first['client']}'"))
                ok = False
        lines = []
        for n, r in group:
            for column in ("client", "matter", "date", "due_date"):
                if r.get(column, "") != first.get(column, ""):
                    report.add(n, column, f"'{r.get(column, '')}' differs from row {first_n} of invoice {number}")
                    ok = False
            if r["account_code"] not in accounts:
                report.add(n, "account_code", f"there is no account with code '{r['account_code']}'")
                ok = False
            if r["tax_rate"] not in rates:
                report.add(n, "tax_rate", f"there is no tax rate named '{r['tax_rate']}'" + _near(r["tax_rate"], rates))
                ok = False
            lines.append(dict(description=r["description"], account_id=accounts.get(r["account_code"]),
                              quantity=r["quantity"], unit_price=r["unit_price"], tax_rate_id=rates.get(r["tax_rate"])))
        if not ok:
            continue
        spec = dict(number=number, client_id=clients[first["client"]], matter_id=matter_id,
                    date=first["date"], due_date=first.get("due_date") or None, lines=lines)
        try:
            billing.post_invoices(firm, [spec])
            count += 1
        except LedgerError as exc:
            report.from_error([n for n, _ in group], exc)
    return count


def _payments(firm: "Firm", rows, report: _Report) -> int:
    clients = _lookup(firm, "SELECT id, name FROM contacts WHERE kind = 'client'")
    banks = _lookup(firm, "SELECT id, name FROM bank_accounts")
    invoices = _lookup(firm, "SELECT id, number FROM invoices")
    currency = firm_currency(firm)
    count = 0
    for n, r in rows:
        bad = False
        for column, table, what in (("client", clients, "client named"), ("bank_account", banks, "bank account named")):
            if r[column] not in table:
                report.add(n, column, f"there is no {what} '{r[column]}'" + _near(r[column], table))
                bad = True
        number = r.get("invoice_number")
        if number and number not in invoices:
            report.add(n, "invoice_number", f"there is no invoice numbered '{number}'" + _near(number, invoices))
            bad = True
        if bad:
            # still name the row's other mistakes, so one fix-and-retry covers them all
            for column, check in (("date", lambda v: parse_date(v)), ("amount", lambda v: parse_amount(v, currency))):
                try:
                    check(r.get(column, ""))
                except LedgerError as exc:
                    report.add(n, column, exc.message)
            continue
        try:
            billing.record_payment(
                firm, client_id=clients[r["client"]], date=r["date"], amount=r["amount"],
                bank_account_id=banks[r["bank_account"]],
                allocations=[(invoices[number], r["amount"])] if number else None, reference=r.get("reference") or None)
            count += 1
        except LedgerError as exc:
            report.from_error([n], exc)
    return count


IMPORTERS: dict[str, Callable] = {"accounts": _accounts, "clients": _clients, "invoices": _invoices,
                                  "payments": _payments}
