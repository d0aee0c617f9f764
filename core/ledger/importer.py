"""CSV imports: all or nothing per file, every bad row reported with its row and column.

Row numbers count the header as row 1, as a spreadsheet shows them. Formats (header names):
  accounts   code, name, type, subtype (optional, default general)
  clients    name, email, phone, address, matter (optional: opens a matter; repeat the client for more)
  invoices   number, client, matter (reference or name, optional), date, due_date (optional), description,
             account_code, quantity, unit_price, tax_rate (name); one row per line, rows grouped by number
  payments   client, date, amount, bank_account (name), invoice_number (optional: oldest first), reference
  currency (clients and payments, optional): only the firm's home currency; another is refused at its row

Each cell is checked against its column here, so a problem names its column because the check knows it; what
the ledger still refuses afterwards is about the whole record and is reported at its `RECORD_COLUMN`.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from core.csvfile import CSVRefused, RowProblem, read_table
from core.errors import ImportError_, LedgerError, ValidationError
from core.ledger import billing, firm as firm_ops
from core.ledger.base import currency as firm_currency, parse_quantity, require_role, transaction
from core.ledger.schema import ACCOUNT_TYPES, LINE_TYPES, SUBTYPES
from core.money import format_minor, parse_amount

if TYPE_CHECKING:
    from core.context import Firm

COLUMNS = {
    "accounts": (("code", "name", "type"), ("subtype",)),
    "clients": (("name",), ("email", "phone", "address", "matter", "currency")),
    "invoices": (("number", "client", "date", "description", "account_code", "quantity", "unit_price", "tax_rate"),
                 ("matter", "due_date")),
    "payments": (("client", "date", "amount", "bank_account"), ("invoice_number", "reference", "currency")),
}
# Columns whose text may run over several lines.
MULTILINE = frozenset({"address", "description"})
# Where a problem the ledger finds with a whole record is reported.
RECORD_COLUMN = {"accounts": "code", "clients": "name", "invoices": "number", "payments": "amount"}
# Who may import what (the ledger's own roles).
ROLE = {"accounts": "admin", "clients": "bookkeeper", "invoices": "bookkeeper", "payments": "bookkeeper"}

Rows = list[tuple[int, dict[str, str]]]
FIRST_DAY, LAST_DAY = dt.date(1900, 1, 1), dt.date(2199, 12, 31)
MAX_MINOR = 10**14  # a trillion in a 2-decimal currency: sums of a whole ledger stay inside SQLite's integers
MAX_QUANTITY = 10**9
_NUMBER = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)")
_GROUPED = re.compile(r"-?\d{1,3}(?:,\d{3})+\.\d+")


class _Report:
    def __init__(self) -> None:
        self.found: list[RowProblem] = []

    def add(self, code: str, row: int, column: str | None, detail: str, fix: str = "") -> None:
        self.found.append(RowProblem(code, row, column, detail, fix))

    def ledger(self, row: int, column: str, exc: LedgerError) -> None:
        """What the ledger refused about a whole record, at the record's column."""
        for detail in exc.problems if isinstance(exc, ValidationError) else [exc.message]:
            self.add("ledger", row, column, detail)


def read_csv(path: Path | str, kind: str) -> list[tuple[int, dict[str, str]]]:
    """(row number, {column: text}) for each data row; raises CSVRefused for a file that cannot be read as `kind`."""
    if kind not in COLUMNS:
        raise ImportError_(f"Cannot import '{kind}': choose one of {', '.join(COLUMNS)}")
    required, optional = COLUMNS[kind]
    return list(read_table(path, required, optional, MULTILINE).rows)


def import_csv(firm: "Firm", kind: str, path: Path | str) -> int:
    """Import one file; returns how many records were created. Raises CSVRefused listing every bad row."""
    if kind not in COLUMNS:
        raise ImportError_(f"Cannot import '{kind}': choose one of {', '.join(COLUMNS)}")
    require_role(firm, ROLE[kind], f"import {kind}")
    rows = read_csv(path, kind)
    report = _Report()
    with transaction(firm):
        count = IMPORTERS[kind](firm, rows, report)
        if report.found:
            raise CSVRefused(path, sorted(report.found, key=lambda p: p.row))
    return count


# --- cell checks: each knows its column ---------------------------------------------------------------

def _day(report: _Report, n: int, column: str, value: str, label: str) -> dt.date | None:
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError
        day = dt.date.fromisoformat(value)
    except ValueError:
        report.add("bad_date", n, column, f"{label}: '{value}' is not a date (use YYYY-MM-DD)")
        return None
    if not FIRST_DAY <= day <= LAST_DAY:
        report.add("date_out_of_range", n, column, f"{label}: {value} is outside the dates Ledgerlink keeps "
                   f"({FIRST_DAY} to {LAST_DAY})")
        return None
    return day


def _money(report: _Report, n: int, column: str, value: str, currency: str, label: str) -> int | None:
    if "," in value:
        if not _GROUPED.fullmatch(value):
            report.add("decimal_comma", n, column, f"{label}: '{value}' has a comma",
                       "write amounts with a decimal point and no thousands separator, like 1500.00 or 1.50")
            return None
        value = value.replace(",", "")
    if not _NUMBER.fullmatch(value):
        report.add("bad_number", n, column, f"{label}: '{value}' is not a number")
        return None
    try:
        minor = parse_amount(value, currency, field=label)
    except LedgerError as exc:
        report.add("bad_number", n, column, exc.message)
        return None
    if abs(minor) >= MAX_MINOR:
        report.add("too_large", n, column, f"{label}: {value} is more than Ledgerlink keeps "
                   f"(less than {format_minor(MAX_MINOR, currency)})")
        return None
    return minor


def _quantity(report: _Report, n: int, column: str, value: str) -> int | None:
    if "," in value or not _NUMBER.fullmatch(value):
        report.add("bad_number", n, column, f"quantity: '{value}' is not a number"
                   + (" (write decimals with a point, like 1.5)" if "," in value else ""))
        return None
    try:
        milli = parse_quantity(value, "quantity")
    except LedgerError as exc:
        report.add("bad_number", n, column, exc.message)
        return None
    if milli > MAX_QUANTITY * 1000:
        report.add("too_large", n, column, f"quantity: {value} is more than {MAX_QUANTITY:,}")
        return None
    return milli


def _known(report: _Report, n: int, column: str, value: str, table: dict[str, Any], what: str) -> bool:
    if value in table:
        return True
    close = difflib.get_close_matches(value, list(table), n=1, cutoff=0.75)
    report.add(f"unknown_{column}", n, column, f"there is no {what} '{value}'"
               + (f": did you mean '{close[0]}'?" if close else ""))
    return False


def _lookup(firm: "Firm", sql: str) -> dict[str, Any]:
    return {row[1]: row[0] for row in firm.db.execute(sql)}


# --- one importer per kind --------------------------------------------------------------------------

def _accounts(firm: "Firm", rows: Rows, report: _Report) -> int:
    used = _lookup(firm, "SELECT id, code FROM accounts")
    seen: dict[str, int] = {}
    count = 0
    for n, r in rows:
        code, name, type_, subtype = r["code"], r["name"], r["type"], r.get("subtype") or "general"
        before = len(report.found)
        if not code:
            report.add("missing", n, "code", "code: an account needs a code")
        elif code in used:
            report.add("duplicate", n, "code", f"Account code {code} is already used")
        elif code in seen:
            report.add("duplicate", n, "code", f"Account code {code} is also on row {seen[code]}")
        seen.setdefault(code, n)
        if not name:
            report.add("missing", n, "name", "name: an account needs a name")
        if type_ not in ACCOUNT_TYPES:
            report.add("bad_choice", n, "type", f"type: '{type_}' is not an account type ({', '.join(ACCOUNT_TYPES)})")
        if subtype not in SUBTYPES:
            report.add("bad_choice", n, "subtype", f"subtype: '{subtype}' is not one of {', '.join(SUBTYPES)}")
        elif type_ in ACCOUNT_TYPES and type_ not in SUBTYPES[subtype]:
            report.add("bad_choice", n, "subtype", f"subtype: a {subtype.replace('_', ' ')} account must be of type "
                       f"{' or '.join(sorted(SUBTYPES[subtype]))}, not {type_}")
        if len(report.found) > before:
            continue
        try:
            firm_ops.add_account(firm, code=code, name=name, type=type_, subtype=subtype)
            count += 1
        except LedgerError as exc:
            report.ledger(n, RECORD_COLUMN["accounts"], exc)
    return count


def _home_currency(report: _Report, n: int, value: str | None, home: str, what: str) -> bool:
    """A `currency` cell is the firm's home currency (or empty); a foreign-currency client or payment is refused."""
    given = (value or "").strip().upper()
    if given and given != home:
        report.add("foreign_currency", n, "currency",
                   f"currency: {what} in {given}, but the firm keeps its books in {home} only; foreign-currency "
                   f"clients and payments are not supported yet, so record it in {home}")
        return False
    return True


def _clients(firm: "Firm", rows: Rows, report: _Report) -> int:
    count = 0
    ids = _lookup(firm, "SELECT id, name FROM contacts WHERE kind = 'client'")
    home = firm_currency(firm)
    for n, r in rows:
        if not r["name"]:
            report.add("missing", n, "name", "name: a contact needs a name")
            continue
        if not _home_currency(report, n, r.get("currency"), home, f"client {r['name']} is billed"):
            continue
        try:
            if r["name"] not in ids:
                ids[r["name"]] = firm_ops.add_client(
                    firm, r["name"], email=r.get("email") or None, phone=r.get("phone") or None,
                    address=r.get("address") or None).id
                count += 1
        except LedgerError as exc:
            report.ledger(n, "name", exc)
            continue
        if r.get("matter"):
            try:
                firm_ops.add_matter(firm, ids[r["name"]], r["matter"])
            except LedgerError as exc:
                report.ledger(n, "matter", exc)
    return count


def _invoices(firm: "Firm", rows: Rows, report: _Report) -> int:
    currency = firm_currency(firm)
    clients = _lookup(firm, "SELECT id, name FROM contacts WHERE kind = 'client'")
    matters = _lookup(firm, "SELECT id, reference FROM matters")
    matter_client = dict(firm.db.execute("SELECT id, client_id FROM matters").fetchall())
    # the clients CSV opens matters by name, so a matter may be named as well as given by its reference
    matter_names: dict[tuple[int, str], list[int]] = {}
    for id_, client_id, name in firm.db.execute("SELECT id, client_id, name FROM matters"):
        matter_names.setdefault((client_id, name), []).append(id_)
    accounts = {r[1]: r for r in firm.db.execute("SELECT id, code, name, type, active FROM accounts")}
    rates = {r[1]: r for r in firm.db.execute("SELECT id, name, active FROM tax_rates")}
    numbers = _lookup(firm, "SELECT id, number FROM invoices")
    groups: dict[str, list[tuple[int, dict]]] = {}
    for n, r in rows:
        if not r["number"]:
            report.add("missing", n, "number", "every line needs the number of its invoice")
            continue
        groups.setdefault(r["number"], []).append((n, r))
    specs: list[tuple[int, dict[str, Any]]] = []
    for number, group in groups.items():
        before = len(report.found)
        first_n, first = group[0]
        if number in numbers:
            report.add("duplicate", first_n, "number",
                       f"Duplicate invoice number: {number} is already used by invoice {numbers[number]}")
        _known(report, first_n, "client", first["client"], clients, "client named")
        matter = first.get("matter") or ""
        matter_id = matters.get(matter)
        if matter and matter_id is None:
            named = matter_names.get((clients.get(first["client"], -1), matter), [])
            if len(named) == 1:
                matter_id = named[0]
            else:
                report.add("unknown_matter", first_n, "matter", f"there is no matter with reference '{matter}'"
                           + (f" and {first['client']} has {len(named)} matters named so" if named else
                              f" or named so for client '{first['client']}'"))
        elif matter_id is not None and first["client"] in clients and matter_client[matter_id] != clients[first["client"]]:
            report.add("other_clients_matter", first_n, "matter", f"matter {matter} belongs to another client")
        day = _day(report, first_n, "date", first["date"], "date")
        if first.get("due_date"):
            due = _day(report, first_n, "due_date", first["due_date"], "due date")
            if day and due and due < day:
                report.add("due_before_date", first_n, "due_date",
                           f"due date {due} is before the invoice date {day}")
        lines, total = [], 0
        for n, r in group:
            for column in ("client", "matter", "date", "due_date"):
                if r.get(column, "") != first.get(column, ""):
                    report.add("differs", n, column, f"'{r.get(column, '')}' differs from row {first_n} of invoice {number}")
            account = accounts.get(r["account_code"])
            if account is None:
                report.add("unknown_account_code", n, "account_code",
                           f"there is no account with code '{r['account_code']}'")
            elif not account[4]:
                report.add("inactive", n, "account_code", f"account {account[1]} {account[2]} is inactive")
            elif account[3] not in LINE_TYPES:
                report.add("not_a_line_account", n, "account_code",
                           f"account {account[1]} {account[2]} is a {account[3]} account; "
                           "lines need an income or expense-recovery account")
            rate = rates.get(r["tax_rate"])
            if rate is None:
                _known(report, n, "tax_rate", r["tax_rate"], rates, "tax rate named")
            elif not rate[2]:
                report.add("inactive", n, "tax_rate", f"tax rate {rate[1]} is inactive")
            qty = _quantity(report, n, "quantity", r["quantity"])
            price = _money(report, n, "unit_price", r["unit_price"], currency, "unit price")
            if price is not None and price < 0:
                report.add("negative", n, "unit_price", "unit price must not be negative")
            elif qty is not None and price is not None:
                total += qty * price // 1000
                if total >= MAX_MINOR:
                    report.add("too_large", n, "unit_price", f"invoice {number} comes to more than Ledgerlink keeps "
                               f"(less than {format_minor(MAX_MINOR, currency)})")
            lines.append(dict(description=r["description"], account_id=account[0] if account else None,
                              quantity=r["quantity"], unit_price=r["unit_price"].replace(",", ""),
                              tax_rate_id=rate[0] if rate else None))
        if len(report.found) > before:
            continue
        specs.append((first_n, dict(number=number, client_id=clients[first["client"]], matter_id=matter_id,
                                    date=first["date"], due_date=first.get("due_date") or None, lines=lines)))
    return _post_all(report, "invoices", specs, lambda batch: billing.post_invoices(firm, batch))


def _payments(firm: "Firm", rows: Rows, report: _Report) -> int:
    clients = _lookup(firm, "SELECT id, name FROM contacts WHERE kind = 'client'")
    banks = _lookup(firm, "SELECT id, name FROM bank_accounts")
    bank_kind = dict(firm.db.execute("SELECT id, kind FROM bank_accounts").fetchall())
    invoices = _lookup(firm, "SELECT id, number FROM invoices")
    invoice_of = {r[0]: r for r in firm.db.execute("SELECT id, client_id, status FROM invoices")}
    currency = firm_currency(firm)
    specs: list[tuple[int, dict[str, Any]]] = []
    for n, r in rows:
        before = len(report.found)
        client_ok = _known(report, n, "client", r["client"], clients, "client named")
        if _known(report, n, "bank_account", r["bank_account"], banks, "bank account named") and \
                bank_kind[banks[r["bank_account"]]] != "operating":
            report.add("trust_bank", n, "bank_account", f"{r['bank_account']} is a trust account: invoice payments "
                       "are deposited to an operating account")
        number = r.get("invoice_number")
        if number and _known(report, n, "invoice_number", number, invoices, "invoice numbered"):
            _, inv_client, status = invoice_of[invoices[number]]
            if status != "posted":
                report.add("deleted", n, "invoice_number", f"invoice {number} was deleted")
            elif client_ok and inv_client != clients[r["client"]]:
                report.add("other_clients_invoice", n, "invoice_number", f"invoice {number} belongs to another client")
        _home_currency(report, n, r.get("currency"), currency, "the payment is")
        _day(report, n, "date", r["date"], "date")
        amount = _money(report, n, "amount", r["amount"], currency, "amount")
        if amount is not None and amount <= 0:
            report.add("not_positive", n, "amount", "amount must be more than zero")
        if len(report.found) > before:
            continue
        text = r["amount"].replace(",", "")
        specs.append((n, dict(client_id=clients[r["client"]], date=r["date"], amount=text,
                              bank_account_id=banks[r["bank_account"]],
                              allocations=[(invoices[number], text)] if number else None,
                              reference=r.get("reference") or None)))
    return _post_all(report, "payments", specs, lambda batch: billing.post_payments(firm, batch))


def _post_all(report: _Report, kind: str, specs: list[tuple[int, dict[str, Any]]],
              post: Callable[[list[dict[str, Any]]], list[int]]) -> int:
    """Post every record through the ledger's bulk path in one call; when the ledger refuses that batch (or
    other rows already have problems), post them one by one so each refusal is named at its own row."""
    if specs and not report.found:
        try:
            return len(post([spec for _, spec in specs]))
        except LedgerError:
            pass
    count = 0
    for n, spec in specs:
        try:
            post([spec])
            count += 1
        except LedgerError as exc:
            report.ledger(n, RECORD_COLUMN[kind], exc)
    return count


IMPORTERS: dict[str, Callable[["Firm", Rows, _Report], int]] = {
    "accounts": _accounts, "clients": _clients, "invoices": _invoices, "payments": _payments}

__all__ = ["COLUMNS", "CSVRefused", "RowProblem", "import_csv", "read_csv"]
