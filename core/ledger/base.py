"""Shared plumbing of the ledger's writes: roles, audit, sequences, journal rows and the outbox.

Every write function of the ledger follows one shape: read and validate everything first
(raising core.errors with a specific message), then one `db.atomic()` block that writes the
document, its journal entry, its audit row and its outbox row.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import re
import sqlite3
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Iterable

from core.errors import Conflict, LedgerError, NotFound, PermissionDenied, ValidationError

if TYPE_CHECKING:
    from core.context import Firm

COUNTRY_CURRENCY = {"US": "USD", "CA": "CAD", "UK": "GBP", "AU": "AUD", "NZ": "NZD"}
ROLES = ("admin", "bookkeeper")


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def parse_date(value: str | dt.date, field: str = "date") -> str:
    """A date as ISO text; refuses anything that is not a real calendar date."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        return dt.date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        raise ValidationError(f"{field}: '{value}' is not a date (use YYYY-MM-DD)") from None


def parse_day(value: str | dt.date, label: str, example: str = "2026-01-31") -> str:
    """A setting's date as ISO text; the message says whether the shape or the calendar day is wrong."""
    try:
        return value.isoformat() if isinstance(value, dt.date) else dt.date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        shaped = re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(value).strip())
        raise ValidationError(f"{label} {value!r} is not a date: " + (
            "that month has no such day, or there is no such month" if shaped
            else f"write it as YYYY-MM-DD, e.g. {example}")) from None


def half_up_div(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half away from zero (ROUND_HALF_UP), in integers."""
    q, r = divmod(abs(numerator), denominator)
    if 2 * r >= denominator:
        q += 1
    return q if numerator >= 0 else -q


def parse_quantity(value, field: str = "quantity") -> int:
    """A quantity to integer thousandths; refuses zero, negatives and more than 3 decimals."""
    if isinstance(value, float):
        raise TypeError("quantities must not be floats")
    try:
        q = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationError(f"{field}: '{value}' is not a number") from None
    if not q.is_finite():
        raise ValidationError(f"{field}: '{value}' is not a number")
    if q <= 0:
        raise ValidationError(f"{field}: {value} must be more than zero")
    milli = q * 1000
    if milli != milli.to_integral_value():
        raise ValidationError(f"{field}: {value} has more than 3 decimal places")
    return int(milli)


def _plain(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_quantity(milli: int) -> str:
    return _plain(Decimal(milli).scaleb(-3))


def parse_rate_percent(value, field: str = "rate") -> int:
    """A percentage ("13", "9.975") to parts per million of the amount (130000, 99750)."""
    if isinstance(value, float):
        raise TypeError("rates must not be floats")
    try:
        p = Decimal(str(value).strip().rstrip("%"))
    except InvalidOperation:
        raise ValidationError(f"{field}: '{value}' is not a percentage") from None
    if not p.is_finite() or p < 0 or p > 100:
        raise ValidationError(f"{field}: {value} must be a percentage between 0 and 100")
    ppm = p * 10000
    if ppm != ppm.to_integral_value():
        raise ValidationError(f"{field}: {value} has more than 4 decimal places")
    return int(ppm)


def format_rate(ppm: int) -> str:
    return _plain(Decimal(ppm).scaleb(-4))


# --- transactions ----------------------------------------------------------------------------------

@contextlib.contextmanager
def transaction(firm: "Firm"):
    """A write transaction taken with BEGIN IMMEDIATE, so validation reads and writes see one state even
    when the TUI and a headless `ledgerlink sync` share the file; nested use becomes a savepoint."""
    conn = firm.db.conn
    if conn.in_transaction:
        with firm.db.atomic():
            yield
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")


def writes(fn):
    """Run a ledger write (its validation included) inside one `transaction`; its first argument is the firm."""

    @functools.wraps(fn)
    def wrapper(firm, *args, **kwargs):
        with transaction(firm):
            return fn(firm, *args, **kwargs)

    return wrapper


# --- the firm, users and roles -------------------------------------------------------------

def firm_row(firm: "Firm") -> dict:
    rows = list(firm.db.query("SELECT * FROM firm WHERE id = 1"))
    if not rows:
        raise NotFound("There is no firm in this database yet: run `ledgerlink init --country XX`")
    return rows[0]


def currency(firm: "Firm") -> str:
    return firm_row(firm)["currency"]


def role_of(firm: "Firm", user: str) -> str | None:
    row = firm.db.execute("SELECT role FROM users WHERE name = ?", [user]).fetchone()
    return row[0] if row else None


def require_role(firm: "Firm", needed: str = "bookkeeper", action: str = "make this change") -> None:
    """Admins may do everything; bookkeepers may bill (invoices, payments, credits, trust, clients)."""
    firm_row(firm)
    role = role_of(firm, firm.user)
    if role is None:
        raise PermissionDenied(
            f"User '{firm.user}' has no role in this firm and cannot {action}: "
            f"an admin can run `ledgerlink users grant {firm.user} {needed}`"
        )
    if needed == "admin" and role != "admin":
        raise PermissionDenied(
            f"Only an admin can {action}; user '{firm.user}' is a {role}: "
            f"an admin can run `ledgerlink users grant {firm.user} admin`"
        )


def inserted_id(cur: sqlite3.Cursor) -> int:
    """The rowid of the row an INSERT just wrote."""
    if cur.lastrowid is None:
        raise LedgerError("The database did not report the id of the row just written")
    return cur.lastrowid


def audit(firm: "Firm", action: str, entity: str, entity_id: int | None, detail: str = "") -> None:
    firm.db.execute(
        "INSERT INTO audit_log (at, user, action, entity, entity_id, detail) VALUES (?, ?, ?, ?, ?, ?)",
        [now(), firm.user, action, entity, entity_id, detail],
    )


def audit_many(firm: "Firm", rows: Iterable[tuple[str, str, int | None, str]]) -> None:
    at = now()
    firm.db.conn.executemany(
        "INSERT INTO audit_log (at, user, action, entity, entity_id, detail) VALUES (?, ?, ?, ?, ?, ?)",
        [(at, firm.user, a, e, i, d) for a, e, i, d in rows],
    )


# --- sequences -------------------------------------------------------------------------------

def peek_sequence(firm: "Firm", name: str) -> int:
    row = firm.db.execute("SELECT next FROM sequences WHERE name = ?", [name]).fetchone()
    return row[0] if row else 1


def set_sequence(firm: "Firm", name: str, next_value: int) -> None:
    firm.db.execute(
        "INSERT INTO sequences (name, next) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET next = excluded.next",
        [name, next_value],
    )


def next_id(firm: "Firm", table: str) -> int:
    return firm.db.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchone()[0]


# --- lookups that raise specific errors ------------------------------------------------------

def get_row(firm: "Firm", table: str, id_: int, what: str) -> dict:
    rows = list(firm.db.query(f"SELECT * FROM {table} WHERE id = ?", [id_]))
    if not rows:
        raise NotFound(f"There is no {what} with id {id_}")
    return rows[0]


def live_document(firm: "Firm", table: str, id_: int, what: str, label: str) -> dict:
    row = get_row(firm, table, id_, what)
    if row["status"] == "deleted":
        raise Conflict(f"{what.capitalize()} {row[label]} was deleted; a deleted {what} cannot be changed")
    if row.get("voided_at"):
        raise Conflict(f"{what.capitalize()} {row[label]} was voided; a voided {what} cannot be changed")
    return row


# --- journal and outbox -----------------------------------------------------------------------

JournalLine = tuple  # (account_id, amount_minor signed, client_id, matter_id, invoice_id)


def check_balanced(lines: list[JournalLine], memo: str) -> None:
    total = sum(line[1] for line in lines)
    if total != 0:
        raise ValidationError(f"Journal entry '{memo}' does not balance: it is off by {total} minor units")


def post_entry(firm: "Firm", *, date: str, doc_type: str, doc_id: int, doc_version: int, kind: str,
               memo: str, lines: list[JournalLine]) -> int:
    """Write one balanced journal entry; zero lines are dropped. Returns the entry id."""
    lines = [line for line in lines if line[1] != 0]
    check_balanced(lines, memo)
    from core.ledger.periods import check_open

    check_open(firm, doc_label(firm, doc_type, doc_id), date)
    cur = firm.db.execute(
        "INSERT INTO journal_entries (date, doc_type, doc_id, doc_version, kind, memo, created_at, user) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [date, doc_type, doc_id, doc_version, kind, memo, now(), firm.user],
    )
    entry_id = inserted_id(cur)
    firm.db.conn.executemany(
        "INSERT INTO journal_lines (entry_id, account_id, amount_minor, client_id, matter_id, invoice_id) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [(entry_id, *line) for line in lines],
    )
    return entry_id


def doc_label(firm: "Firm", doc_type: str, doc_id: int) -> str:
    """'Invoice INV-00001', 'Credit note CR-00002', 'Payment 7', 'Trust transaction 3'."""
    if doc_type in ("invoice", "credit_note"):
        row = firm.db.execute(f"SELECT number FROM {doc_type}s WHERE id = ?", [doc_id]).fetchone()
        name = row[0] if row else doc_id
        return f"{'Invoice' if doc_type == 'invoice' else 'Credit note'} {name}"
    return f"{'Payment' if doc_type == 'payment' else 'Trust transaction'} {doc_id}"


def reverse_version(firm: "Firm", *, date: str, doc_type: str, doc_id: int, version: int, new_version: int,
                    memo: str) -> None:
    """Post the exact opposite of every line a document's `version` posted (the rows stay as they are)."""
    rows = firm.db.execute(
        "SELECT l.account_id, l.amount_minor, l.client_id, l.matter_id, l.invoice_id FROM journal_lines l "
        "JOIN journal_entries e ON e.id = l.entry_id "
        "WHERE e.doc_type = ? AND e.doc_id = ? AND e.doc_version = ? AND e.kind = 'post' ORDER BY l.id",
        [doc_type, doc_id, version],
    ).fetchall()
    lines = [(a, -amt, c, m, i) for a, amt, c, m, i in rows]
    post_entry(firm, date=date, doc_type=doc_type, doc_id=doc_id, doc_version=new_version, kind="reversal",
               memo=memo, lines=lines)


OUTBOX_SQL = (
    "INSERT INTO sync_queue (doc_type, doc_id, version, action, state, reason, attempts, next_attempt_at, "
    "updated_at) VALUES (?, ?, ?, ?, 'queued', NULL, 0, NULL, ?) "
    "ON CONFLICT(doc_type, doc_id) DO UPDATE SET version = excluded.version, action = excluded.action, "
    "state = 'queued', reason = NULL, attempts = 0, next_attempt_at = NULL, updated_at = excluded.updated_at"
)


def mark_dirty(firm: "Firm", doc_type: str, doc_id: int, version: int, action: str = "upsert") -> None:
    """The transactional outbox: call inside the same db.atomic() as the document's journal rows."""
    firm.db.execute(OUTBOX_SQL, [doc_type, doc_id, version, action, now()])
    if doc_type == "payment":
        _mark_trust_side(firm, doc_id, version, action)


def _mark_trust_side(firm: "Firm", payment_id: int, version: int, action: str) -> None:
    """A payment from trust queues its trust side too ('trust_payment'): deleted in QBO once it moves no money."""
    row = firm.db.execute("SELECT from_trust FROM payments WHERE id = ?", [payment_id]).fetchone()
    if not row or not row[0]:
        return
    moves = firm.db.execute(
        "SELECT 1 FROM journal_lines l JOIN journal_entries e ON e.id = l.entry_id JOIN accounts a ON "
        "a.id = l.account_id WHERE e.doc_type = 'payment' AND e.doc_id = ? AND a.subtype = 'trust_liability' "
        "GROUP BY l.account_id, l.client_id HAVING sum(l.amount_minor) != 0 LIMIT 1", [payment_id]).fetchone()
    firm.db.execute(OUTBOX_SQL, ["trust_payment", payment_id, version, action if moves else "delete", now()])


# --- balances derived from postings ------------------------------------------------------------

def accounts_by_subtype(firm: "Firm", subtype: str, active_only: bool = True) -> list[dict]:
    sql = "SELECT * FROM accounts WHERE subtype = ?" + (" AND active = 1" if active_only else "") + " ORDER BY code"
    return list(firm.db.query(sql, [subtype]))


def one_account(firm: "Firm", subtype: str, purpose: str) -> int:
    rows = accounts_by_subtype(firm, subtype)
    if not rows:
        raise ValidationError(
            f"The firm has no active {subtype.replace('_', ' ')} account, which {purpose} needs: "
            "add one in Setup › Accounts"
        )
    return rows[0]["id"]


def open_balance(firm: "Firm", invoice_id: int) -> int:
    """AR still owed on an invoice: the sum of its postings to receivable accounts."""
    return firm.db.execute(
        "SELECT coalesce(sum(l.amount_minor), 0) FROM journal_lines l JOIN accounts a ON a.id = l.account_id "
        "WHERE l.invoice_id = ? AND a.subtype = 'receivable'",
        [invoice_id],
    ).fetchone()[0]


def client_trust_balance(firm: "Firm", client_id: int) -> int:
    """Money held in trust for a client (positive), from the trust-liability postings."""
    return -firm.db.execute(
        "SELECT coalesce(sum(l.amount_minor), 0) FROM journal_lines l JOIN accounts a ON a.id = l.account_id "
        "WHERE l.client_id = ? AND a.subtype = 'trust_liability'",
        [client_id],
    ).fetchone()[0]
