"""Trust money reaches QBO: the outbox and the links accept trust documents.

doc_type 'trust' is a trust transaction (core.ledger.trust); 'trust_payment' is the trust side of a payment of an
invoice from trust (keyed by the payment's id). Both are pushed as a QBO JournalEntry. SQLite cannot change a
CHECK in place: each table is rebuilt from its own stored definition with only the CHECK widened, its rows copied
with their rowids, and its indexes and triggers created again exactly as they were.

Trust money posted before this step never reached QBO: each posted trust transaction, and the trust side of each
posted payment from trust that still moves client money, is queued once, so QBO's trust figures catch up with the
ledger's at the next sync (reversed ones net to nothing and are left out).
"""

from __future__ import annotations

import datetime as dt
import sqlite3

OLD_DOC_TYPES = "CHECK (doc_type IN ('invoice','payment','credit_note'))"
NEW_DOC_TYPES = "CHECK (doc_type IN ('invoice','payment','credit_note','trust','trust_payment'))"
OLD_QBO_TYPES = "CHECK (qbo_type IN ('Invoice','Payment','CreditMemo'))"
NEW_QBO_TYPES = "CHECK (qbo_type IN ('Invoice','Payment','CreditMemo','JournalEntry'))"


def _rebuild(conn: sqlite3.Connection, table: str, swaps: tuple[tuple[str, str], ...]) -> None:
    sql = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", [table]).fetchone()[0]
    for old, new in swaps:
        if old not in sql:
            raise RuntimeError(f"{table}: expected {old} in its definition")
        sql = sql.replace(old, new)
    head, rest = sql.split("(", 1)
    if table not in head:
        raise RuntimeError(f"{table}: unexpected definition {head!r}")
    extras = [r[0] for r in conn.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND type IN ('index','trigger') AND sql IS NOT NULL "
        "ORDER BY type, name", [table])]
    columns = ", ".join(f'"{r[1]}"' for r in conn.execute(f"PRAGMA table_info({table})"))
    conn.execute(f"CREATE TABLE {table}_v2 (" + rest)
    conn.execute(f"INSERT INTO {table}_v2 (rowid, {columns}) SELECT rowid, {columns} FROM {table} ORDER BY rowid")
    conn.execute(f"DROP TABLE {table}")
    conn.execute(f"ALTER TABLE {table}_v2 RENAME TO {table}")
    for statement in extras:
        conn.execute(statement)


def up(conn: sqlite3.Connection) -> None:
    _rebuild(conn, "sync_queue", ((OLD_DOC_TYPES, NEW_DOC_TYPES),))
    _rebuild(conn, "sync_links", ((OLD_DOC_TYPES, NEW_DOC_TYPES), (OLD_QBO_TYPES, NEW_QBO_TYPES)))
    stamp = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    queue = ("INSERT OR IGNORE INTO sync_queue (doc_type, doc_id, version, action, state, attempts, updated_at) "
             "SELECT ?, id, version, 'upsert', 'queued', 0, ? FROM ")
    conn.execute(queue + "trust_transactions WHERE status = 'posted' ORDER BY id", ["trust", stamp])
    conn.execute(queue + "payments p WHERE p.from_trust = 1 AND p.status = 'posted' AND EXISTS ("
                 "SELECT 1 FROM journal_lines l JOIN journal_entries e ON e.id = l.entry_id JOIN accounts a ON "
                 "a.id = l.account_id WHERE e.doc_type = 'payment' AND e.doc_id = p.id AND a.subtype = 'trust_liability' "
                 "GROUP BY l.account_id, l.client_id HAVING sum(l.amount_minor) != 0) ORDER BY p.id",
                 ["trust_payment", stamp])
