"""Bank statements of trust accounts: CSV or OFX/QFX import, the ledger items they are matched to, and matching.

A statement file is CSV with the header `date,description,amount` and an optional `reference` column (in any
order, any case), UTF-8 with or without a byte-order mark; dates YYYY-MM-DD; amounts signed (money in > 0) with a
decimal point. An OFX/QFX file (read with ofxtools) gives one account's transactions. A ledger item is one journal entry's movement of the trust account's GL account. A statement line
matches one item of the same amount; `auto_match` pairs them by amount within a date window, preferring the same
reference. An item the bookkeeper marks outstanding is left for a later statement. Lines dated on or before the
account's last saved reconciliation can no longer be matched or unmatched.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import Conflict, ImportError_, NotFound, ValidationError
from core.ledger.base import audit, firm_row, now, require_role, writes
from core.ledger.periods import locked_on, on_or_before
from core.ledger.trust import locked_until
from core.money import parse_amount

if TYPE_CHECKING:
    from core.context import Firm

COLUMNS = ("date", "description", "amount", "reference")
REQUIRED = ("date", "description", "amount")
MATCH_WINDOW_DAYS = 10
_DECIMAL_COMMA = re.compile(r"^[(+-]?\d{1,3}(\.\d{3})*,\d{1,2}\)?$|^[(+-]?\d+,\d{1,2}\)?$")
_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")


@dataclass(frozen=True)
class ParsedLine:
    row: int
    date: str
    description: str
    amount_minor: int
    reference: str | None


@dataclass(frozen=True)
class StatementLine:
    id: int
    statement_id: int
    file_name: str
    row: int
    date: str
    description: str
    amount_minor: int
    reference: str | None
    entry_id: int | None  # the ledger item it is matched to
    how: str | None  # 'auto' | 'manual'

    def as_json(self) -> dict:
        return {"id": self.id, "statement_id": self.statement_id, "file": self.file_name, "row": self.row,
                "date": self.date, "description": self.description, "amount_minor": self.amount_minor,
                "reference": self.reference, "entry_id": self.entry_id, "matched": self.how}


@dataclass(frozen=True)
class LedgerItem:
    entry_id: int
    date: str
    doc_type: str
    doc_id: int
    kind: str  # 'post' | 'reversal'
    memo: str
    amount_minor: int  # + into the account (deposit), - out of it (cheque, transfer out)
    reference: str | None
    line_id: int | None  # the statement line it is matched to
    marked_outstanding: bool

    def as_json(self) -> dict:
        return {"entry_id": self.entry_id, "date": self.date, "doc_type": self.doc_type, "doc_id": self.doc_id,
                "kind": self.kind, "memo": self.memo, "amount_minor": self.amount_minor, "reference": self.reference,
                "statement_line_id": self.line_id, "marked_outstanding": self.marked_outstanding}


@dataclass(frozen=True)
class ImportResult:
    statement_id: int
    lines: int
    matched: int
    unmatched: int

    def as_json(self) -> dict:
        return {"ok": True, "statement_id": self.statement_id, "lines": self.lines, "matched": self.matched,
                "unmatched": self.unmatched}


# --- parsing ---------------------------------------------------------------------------------------

def _cell_problem(row: int, column: str, message: str) -> str:
    return f"row {row}, column {column}: {message}"


def _amount(text: str, currency: str, row: int) -> int:
    raw = text.strip()
    if not raw:
        raise ValidationError(_cell_problem(row, "amount", "empty; every line needs an amount"))
    if _DECIMAL_COMMA.match(raw):
        raise ValidationError(_cell_problem(row, "amount", f"'{raw}' has a decimal comma; export the statement "
                                                           "with a decimal point (12.50), or change the amounts"))
    if "," in raw and not _GROUPED.match(raw):
        raise ValidationError(_cell_problem(row, "amount", f"'{raw}' has misplaced commas"))
    negative = raw.startswith("(") and raw.endswith(")")
    try:
        minor = parse_amount(raw.strip("()"), currency, field="amount")
    except ValidationError as exc:
        raise ValidationError(_cell_problem(row, "amount", exc.message.removeprefix("amount: "))) from None
    if minor == 0:
        raise ValidationError(_cell_problem(row, "amount", "0 is not a bank movement"))
    return -minor if negative else minor


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[:exc.start]
        row = before.count(b"\n") + 1
        line_start = before.rfind(b"\n") + 1
        column = before[line_start:].count(b",") + 1
        header = data.split(b"\n", 1)[0].decode("utf-8-sig", "replace").split(",")
        name = header[column - 1].strip().lower() if row > 1 and column <= len(header) else str(column)
        raise ImportError_(
            _cell_problem(row, name, f"byte 0x{data[exc.start]:02X} is not UTF-8: save the statement as UTF-8 "
                                     "(\"CSV UTF-8\") and import it again")) from None


def parse_statement_csv(data: bytes, currency: str) -> list[ParsedLine]:
    """The lines of a statement file, or ImportError_ with every problem (row and column)."""
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    rows = list(reader)
    if not rows:
        raise ImportError_("row 1: the file is empty; expected the header date,description,amount[,reference]")
    header = [h.strip().lower() for h in rows[0]]
    if len(header) == 1 and ";" in header[0]:
        raise ImportError_("row 1 (header): the columns are separated by semicolons; export the statement as "
                           "comma-separated CSV with the header date,description,amount[,reference]")
    problems = []
    unknown = [h for h in header if h not in COLUMNS]
    missing = [c for c in REQUIRED if c not in header]
    dupes = sorted({h for h in header if header.count(h) > 1})
    if unknown or missing or dupes:
        found = ",".join(rows[0])
        parts = ([f"unknown column {', '.join(repr(u) for u in unknown)}"] if unknown else []) + \
                ([f"missing column {', '.join(missing)}"] if missing else []) + \
                ([f"column {', '.join(dupes)} given twice"] if dupes else [])
        raise ImportError_(f"row 1 (header): {'; '.join(parts)}; expected date,description,amount and optionally "
                           f"reference (found: {found})")
    at = {h: i for i, h in enumerate(header)}
    out: list[ParsedLine] = []
    for n, cells in enumerate(rows[1:], 2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            problems.append(f"row {n}: {len(cells)} cells, but the header has {len(header)} columns")
            continue
        get = lambda name: cells[at[name]].strip() if name in at else ""  # noqa: E731
        line_problems = []
        day = get("date")
        try:
            day = dt.date.fromisoformat(day).isoformat()
        except ValueError:
            line_problems.append(_cell_problem(n, "date", f"'{day}' is not a date (use YYYY-MM-DD)"))
        if not get("description"):
            line_problems.append(_cell_problem(n, "description", "empty; every line needs a description"))
        try:
            amount = _amount(get("amount"), currency, n)
        except ValidationError as exc:
            line_problems.append(exc.message)
            amount = 0
        if line_problems:
            problems += line_problems
            continue
        out.append(ParsedLine(n, day, get("description"), amount, get("reference") or None))
    if not out and not problems:
        problems.append("row 2: the statement has no lines")
    if problems:
        raise ImportError_(problems[0] if len(problems) == 1 else f"{len(problems)} problems: {problems[0]}", problems)
    return out


def is_ofx(data: bytes, name: str = "") -> bool:
    head = data[:512].lstrip(b"\xef\xbb\xbf \r\n\t").upper()
    return name.lower().endswith((".ofx", ".qfx")) or head.startswith(b"OFXHEADER") or (
        head.startswith(b"<?XML") and b"<OFX" in data[:2048].upper())


def parse_statement_ofx(data: bytes, currency: str) -> list[ParsedLine]:
    """The transactions of an OFX/QFX file (one account's statement), read with ofxtools; `row` is the
    transaction's number in the file. ImportError_ names the transaction and field that is wrong."""
    from decimal import Decimal

    from ofxtools.Parser import OFXTree

    tree = OFXTree()
    try:
        tree.parse(io.BytesIO(data))
        ofx = tree.convert()
        statements = list(ofx.statements)
    except Exception as exc:  # ofxtools raises several types (ParseError, OFXSpecError, ValueError, KeyError)
        raise ImportError_(f"OFX: the file cannot be read as OFX/QFX ({type(exc).__name__}: {exc})") from None
    if len(statements) != 1:
        raise ImportError_(f"OFX: the file holds {len(statements)} account statements; export one trust account's")
    stmt = statements[0]
    if stmt.curdef and stmt.curdef != currency:
        raise ImportError_(f"OFX: the statement is in {stmt.curdef}; the firm keeps its books in {currency}")
    out, problems = [], []
    for n, t in enumerate(stmt.transactions, 1):
        where = f"transaction {n} (FITID {t.fitid})"
        amount = Decimal(t.trnamt) if t.trnamt is not None else Decimal(0)
        try:
            minor = parse_amount(str(amount), currency, field=f"{where}, TRNAMT")
        except ValidationError as exc:
            problems.append(exc.message)
            continue
        if minor == 0:
            problems.append(f"{where}, TRNAMT: 0 is not a bank movement")
            continue
        description = (t.name or t.memo or t.trntype or "").strip()
        reference = (t.checknum or t.refnum or t.memo or "").strip() or None
        out.append(ParsedLine(n, t.dtposted.date().isoformat(), description or "(no description)", minor, reference))
    if not out and not problems:
        problems.append("OFX: the statement has no transactions")
    if problems:
        raise ImportError_(problems[0] if len(problems) == 1 else f"{len(problems)} problems: {problems[0]}", problems)
    return out


# --- reads -------------------------------------------------------------------------------------------

def _trust_bank(firm: "Firm", bank_account_id: int) -> dict:
    rows = list(firm.db.query("SELECT * FROM bank_accounts WHERE id = ?", [bank_account_id]))
    if not rows:
        raise NotFound(f"There is no bank account with id {bank_account_id}")
    if rows[0]["kind"] != "trust":
        raise ValidationError(f"{rows[0]['name']} is an operating account; statements are reconciled here for trust "
                              "accounts")
    return rows[0]


def statement_lines(firm: "Firm", bank_account_id: int, as_of: str | None = None) -> list[StatementLine]:
    sql = ("SELECT l.id, l.statement_id, s.file_name, l.row_no, l.date, l.description, l.amount_minor, l.reference, "
           "m.entry_id, m.how FROM trust_statement_lines l JOIN trust_statements s ON s.id = l.statement_id "
           "LEFT JOIN trust_matches m ON m.statement_line_id = l.id WHERE l.bank_account_id = ?")
    params: list = [bank_account_id]
    if as_of:
        sql += " AND l.date <= ?"
        params.append(as_of)
    return [StatementLine(*r) for r in firm.db.execute(sql + " ORDER BY l.date, l.id", params)]


def ledger_items(firm: "Firm", bank_account_id: int, as_of: str | None = None) -> list[LedgerItem]:
    bank = _trust_bank(firm, bank_account_id)
    sql = ("SELECT e.id, e.date, e.doc_type, e.doc_id, e.kind, e.memo, sum(l.amount_minor), "
           "CASE e.doc_type WHEN 'trust' THEN (SELECT reference FROM trust_transactions t WHERE t.id = e.doc_id) "
           "WHEN 'payment' THEN (SELECT reference FROM payments p WHERE p.id = e.doc_id) END, "
           "(SELECT statement_line_id FROM trust_matches m WHERE m.bank_account_id = ? AND m.entry_id = e.id), "
           "EXISTS (SELECT 1 FROM trust_outstanding o WHERE o.bank_account_id = ? AND o.entry_id = e.id) "
           "FROM journal_lines l JOIN journal_entries e ON e.id = l.entry_id WHERE l.account_id = ?")
    params: list = [bank_account_id, bank_account_id, bank["gl_account_id"]]
    if as_of:
        sql += " AND e.date <= ?"
        params.append(as_of)
    rows = firm.db.execute(sql + " GROUP BY e.id HAVING sum(l.amount_minor) != 0 ORDER BY e.date, e.id", params)
    return [LedgerItem(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], bool(r[9])) for r in rows]


# --- writes ------------------------------------------------------------------------------------------

@writes
def import_statement(firm: "Firm", bank_account_id: int, path: str | Path, *, data: bytes | None = None
                     ) -> ImportResult:
    """Import a statement file into a trust account (all or nothing) and match what can be matched."""
    require_role(firm, "bookkeeper", "import bank statements")
    bank = _trust_bank(firm, bank_account_id)
    path = Path(path)
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ValidationError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    cur = firm_row(firm)["currency"]
    lines = parse_statement_ofx(data, cur) if is_ofx(data, path.name) else parse_statement_csv(data, cur)
    digest = hashlib.sha256(data).hexdigest()
    seen = firm.db.execute("SELECT id, imported_at FROM trust_statements WHERE bank_account_id = ? AND sha256 = ?",
                           [bank_account_id, digest]).fetchone()
    if seen:
        raise Conflict(f"{path.name} was already imported into {bank['name']} (statement {seen[0]}, "
                       f"{seen[1][:10]}); nothing was imported")
    until = locked_until(firm, bank_account_id)
    locked = [found.text() for p in lines if (found := locked_on(f"row {p.row}, column date", p.date, until,
                                                                "trust_reconciled", bank["name"])) is not None]
    if locked:
        raise ImportError_(locked[0] if len(locked) == 1 else f"{len(locked)} problems: {locked[0]}", locked)
    stamp = now()
    cur = firm.db.execute(
        "INSERT INTO trust_statements (bank_account_id, file_name, sha256, line_count, imported_at, imported_by) "
        "VALUES (?, ?, ?, ?, ?, ?) RETURNING id", [bank_account_id, path.name, digest, len(lines), stamp, firm.user])
    sid: int = cur.fetchone()[0]
    firm.db.conn.executemany(
        "INSERT INTO trust_statement_lines (statement_id, bank_account_id, row_no, date, description, amount_minor, "
        "reference) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(sid, bank_account_id, p.row, p.date, p.description, p.amount_minor, p.reference) for p in lines])
    audit(firm, "trust_statement_import", "trust_statement", sid, f"{bank['name']}: {path.name}, {len(lines)} lines")
    matched = _auto_match(firm, bank_account_id)
    unmatched = firm.db.execute("SELECT count(*) FROM trust_statement_lines l LEFT JOIN trust_matches m ON "
                                "m.statement_line_id = l.id WHERE l.statement_id = ? AND m.entry_id IS NULL",
                                [sid]).fetchone()[0]
    return ImportResult(sid, len(lines), matched, unmatched)


def _refs(text: str | None) -> set[str]:
    return {t for t in re.split(r"[^0-9A-Za-z]+", (text or "").upper()) if len(t) >= 3}


def _auto_match(firm: "Firm", bank_account_id: int) -> int:
    until = locked_until(firm, bank_account_id)
    by_amount: dict[int, list[LedgerItem]] = {}
    for i in ledger_items(firm, bank_account_id):
        if i.line_id is None and not i.marked_outstanding:
            by_amount.setdefault(i.amount_minor, []).append(i)
    count = 0
    for line in statement_lines(firm, bank_account_id):
        if line.entry_id is not None or on_or_before(line.date, until):
            continue
        day = dt.date.fromisoformat(line.date)
        words = _refs(line.reference) | _refs(line.description)
        best = None
        candidates = by_amount.get(line.amount_minor, [])
        for item in candidates:
            gap = abs((dt.date.fromisoformat(item.date) - day).days)
            if gap > MATCH_WINDOW_DAYS:
                continue
            same_ref = bool(item.reference) and bool(_refs(item.reference) & words)
            key = (not same_ref, gap, item.entry_id)
            if best is None or key < best[0]:
                best = (key, item)
        if best is not None:
            candidates.remove(best[1])
            _insert_match(firm, bank_account_id, line.id, best[1].entry_id, "auto")
            count += 1
    return count


def _insert_match(firm: "Firm", bank_account_id: int, line_id: int, entry_id: int, how: str) -> None:
    firm.db.execute("INSERT INTO trust_matches (statement_line_id, bank_account_id, entry_id, how, matched_at, "
                    "matched_by) VALUES (?, ?, ?, ?, ?, ?)", [line_id, bank_account_id, entry_id, how, now(), firm.user])
    firm.db.execute("DELETE FROM trust_outstanding WHERE bank_account_id = ? AND entry_id = ?",
                    [bank_account_id, entry_id])


def _line(firm: "Firm", bank_account_id: int, line_id: int) -> StatementLine:
    found = next((x for x in statement_lines(firm, bank_account_id) if x.id == line_id), None)
    if found is None:
        raise NotFound(f"statement line: there is no line {line_id} on this account's statements")
    locked = locked_on(f"statement line {line_id}", found.date, locked_until(firm, bank_account_id),
                       "trust_reconciled", _trust_bank(firm, bank_account_id)["name"])
    if locked:
        raise ValidationError(locked.text())
    return found


def _item(firm: "Firm", bank_account_id: int, entry_id: int) -> LedgerItem:
    found = next((x for x in ledger_items(firm, bank_account_id) if x.entry_id == entry_id), None)
    if found is None:
        raise NotFound(f"entry: journal entry {entry_id} does not move this trust account")
    return found


@writes
def auto_match(firm: "Firm", bank_account_id: int) -> int:
    require_role(firm, "bookkeeper", "match bank statements")
    _trust_bank(firm, bank_account_id)
    n = _auto_match(firm, bank_account_id)
    if n:
        audit(firm, "trust_auto_match", "bank_account", bank_account_id, f"{n} lines")
    return n


@writes
def match(firm: "Firm", bank_account_id: int, line_id: int, entry_id: int) -> None:
    """Match a statement line to a ledger item by hand (same amount; neither matched yet)."""
    require_role(firm, "bookkeeper", "match bank statements")
    line, item = _line(firm, bank_account_id, line_id), _item(firm, bank_account_id, entry_id)
    if line.entry_id is not None:
        raise Conflict(f"statement line {line_id} is already matched to entry {line.entry_id}: unmatch it first")
    if item.line_id is not None:
        raise Conflict(f"entry {entry_id} is already matched to statement line {item.line_id}: unmatch that first")
    if line.amount_minor != item.amount_minor:
        raise ValidationError(f"statement line {line_id} is {line.amount_minor} minor units and entry {entry_id} is "
                              f"{item.amount_minor}: only equal amounts match")
    _insert_match(firm, bank_account_id, line_id, entry_id, "manual")
    audit(firm, "trust_match", "trust_statement_line", line_id, f"entry {entry_id}")


@writes
def unmatch(firm: "Firm", bank_account_id: int, line_id: int) -> None:
    require_role(firm, "bookkeeper", "match bank statements")
    line = _line(firm, bank_account_id, line_id)
    if line.entry_id is None:
        raise ValidationError(f"statement line {line_id} is not matched")
    firm.db.execute("DELETE FROM trust_matches WHERE statement_line_id = ?", [line_id])
    audit(firm, "trust_unmatch", "trust_statement_line", line_id, f"entry {line.entry_id}")


@writes
def mark_outstanding(firm: "Firm", bank_account_id: int, entry_id: int) -> None:
    """Keep a ledger item outstanding (not cleared by the bank yet): unmatched, and never matched automatically."""
    require_role(firm, "bookkeeper", "match bank statements")
    item = _item(firm, bank_account_id, entry_id)
    if item.line_id is not None:
        _line(firm, bank_account_id, item.line_id)  # refused in a reconciled period
        firm.db.execute("DELETE FROM trust_matches WHERE statement_line_id = ?", [item.line_id])
    firm.db.execute("INSERT OR IGNORE INTO trust_outstanding (bank_account_id, entry_id, marked_at, marked_by) "
                    "VALUES (?, ?, ?, ?)", [bank_account_id, entry_id, now(), firm.user])
    audit(firm, "trust_mark_outstanding", "journal_entry", entry_id, f"bank account {bank_account_id}")
