"""Document numbers the ledger hands out again after a restore, and the next free one.

A firm database restored from a backup hands out the numbers it had issued after the backup once more, while
QBO still holds the documents that carried them. The sync then renumbers the new document (never one that
QBO holds) to the next number free in both the ledger and QBO, and says so in the audit log.
"""

from __future__ import annotations

import datetime as dt
import re

import sqlite_utils

_TABLE = {"invoice": "invoices", "credit_note": "credit_notes"}


def split_number(number: str) -> tuple[str, int, int] | None:
    """'INV-00007' -> ('INV-', 7, 5); None for a number without trailing digits."""
    m = re.fullmatch(r"(.*?)(\d+)", number)
    return (m.group(1), int(m.group(2)), len(m.group(2))) if m else None


def candidates(db: sqlite_utils.Database, doc_type: str, number: str, count: int = 20) -> list[str]:
    """The next `count` numbers after the highest the ledger has with this number's prefix, unused in the ledger."""
    parts = split_number(number)
    if parts is None:
        return []
    prefix, _, width = parts
    table = _TABLE[doc_type]
    used = {r[0] for r in db.execute(f"SELECT number FROM {table} WHERE number LIKE ?", [prefix + "%"])}
    top = max((p[1] for p in (split_number(u[len(prefix):]) for u in used if u.startswith(prefix)) if p), default=0)
    out: list[str] = []
    n = top + 1
    while len(out) < count:
        text = f"{prefix}{n:0{width}d}"
        if text not in used:
            out.append(text)
        n += 1
    return out


def renumber(db: sqlite_utils.Database, doc_type: str, doc_id: int, new: str, why: str, user: str = "ledgerlink sync"
             ) -> str:
    """Give a document that QBO has never held a new number (inside the caller's transaction); returns the old."""
    table = _TABLE[doc_type]
    old = db.execute(f"SELECT number FROM {table} WHERE id = ?", [doc_id]).fetchone()[0]
    db.execute(f"UPDATE {table} SET number = ? WHERE id = ?", [new, doc_id])
    parts = split_number(new)
    if doc_type == "invoice" and parts:
        db.execute("INSERT INTO sequences (name, next) VALUES ('invoice', ?) ON CONFLICT(name) DO UPDATE SET "
                   "next = max(next, excluded.next)", [parts[1] + 1])
    db.execute("INSERT INTO audit_log (at, user, action, entity, entity_id, detail) VALUES (?, ?, ?, ?, ?, ?)",
               [dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), user, f"renumber_{doc_type}",
                doc_type, doc_id, f"{old} -> {new}: {why}"])
    return old
