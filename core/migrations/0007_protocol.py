"""The QBO protocol step: the ledger lock date, voids, customer identity and safe replays.

- firm.lock_date: nothing dated on or before it is posted (a trigger backs the ledger's own check).
- invoices.voided_at, payments.voided_at: a void keeps the document and its number; its posting is reversed.
- customer_decisions: the admin's link of a client to an existing QBO customer, or the choice of a new one.
- one QBO customer per client: a firm upgraded from a release that linked by name alone may hold two clients
  linked to one customer; the first client keeps the link, the others are unlinked so that the admin decides.
- qbo_mirror: QBO's documents as the last reconcile read them (empty: the next reconcile reads everything).
"""

from __future__ import annotations

import sqlite3

_STATEMENTS = (
    "ALTER TABLE firm ADD COLUMN lock_date TEXT",
    "ALTER TABLE invoices ADD COLUMN voided_at TEXT",
    "ALTER TABLE payments ADD COLUMN voided_at TEXT",
    """CREATE TRIGGER journal_entries_locked BEFORE INSERT ON journal_entries
       WHEN NEW.date <= (SELECT lock_date FROM firm WHERE id = 1)
       BEGIN SELECT RAISE(ABORT, 'the ledger is locked on this date: post in the open period'); END""",
    """CREATE TABLE customer_decisions (
         client_id INTEGER PRIMARY KEY REFERENCES contacts(id),
         decision TEXT NOT NULL CHECK (decision IN ('link','new')),
         qbo_id TEXT,
         display_name TEXT,
         decided_by TEXT NOT NULL,
         decided_at TEXT NOT NULL,
         CHECK ((decision = 'link') = (qbo_id IS NOT NULL))
       ) STRICT""",
    "CREATE UNIQUE INDEX customer_decisions_qbo ON customer_decisions(qbo_id) WHERE qbo_id IS NOT NULL",
    """CREATE TABLE qbo_mirror (
         entity TEXT NOT NULL,
         id TEXT NOT NULL,
         json TEXT NOT NULL,
         PRIMARY KEY (entity, id)
       ) STRICT""",
)


def up(conn: sqlite3.Connection) -> None:
    for statement in _STATEMENTS:
        conn.execute(statement)
    shared = conn.execute(
        "SELECT client_id FROM sync_customers s WHERE qbo_id IS NOT NULL AND EXISTS (SELECT 1 FROM sync_customers o "
        "WHERE o.qbo_id = s.qbo_id AND o.client_id < s.client_id)").fetchall()
    conn.executemany("UPDATE sync_customers SET qbo_id = NULL WHERE client_id = ?", shared)
    conn.execute("CREATE UNIQUE INDEX sync_customers_qbo ON sync_customers(qbo_id) WHERE qbo_id IS NOT NULL")
