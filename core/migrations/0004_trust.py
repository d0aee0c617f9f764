"""Trust accounting: trust documents of every kind (receipt, disbursement, refund, transfer) with a version,
a status, payee and reference; bank statements and their lines; matches and outstanding marks; saved
three-way reconciliations (append-only). Rows written by the first release keep their columns first and in order, their ids, accounts and
amounts (their journal entries are untouched): they become version 1, posted."""

from __future__ import annotations

import sqlite3

TABLES = """
CREATE TABLE trust_transactions_v2 (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('receipt','disbursement','refund','transfer')),
  client_id INTEGER NOT NULL REFERENCES contacts(id),
  matter_id INTEGER REFERENCES matters(id),
  bank_account_id INTEGER NOT NULL REFERENCES bank_accounts(id),
  date TEXT NOT NULL,
  amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
  memo TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  to_bank_account_id INTEGER REFERENCES bank_accounts(id),
  currency TEXT NOT NULL,
  payee TEXT,
  reference TEXT,
  version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
  status TEXT NOT NULL DEFAULT 'posted' CHECK (status IN ('posted','reversed')),
  reversal_date TEXT,
  reversal_reason TEXT,
  updated_at TEXT NOT NULL,
  CHECK ((kind = 'transfer') = (to_bank_account_id IS NOT NULL)),
  CHECK (to_bank_account_id IS NULL OR to_bank_account_id != bank_account_id),
  CHECK ((status = 'reversed') = (reversal_date IS NOT NULL))
) STRICT;
CREATE TABLE trust_statements (
  id INTEGER PRIMARY KEY,
  bank_account_id INTEGER NOT NULL REFERENCES bank_accounts(id),
  file_name TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  line_count INTEGER NOT NULL CHECK (line_count >= 1),
  imported_at TEXT NOT NULL,
  imported_by TEXT NOT NULL,
  UNIQUE (bank_account_id, sha256)
) STRICT;
CREATE TABLE trust_statement_lines (
  id INTEGER PRIMARY KEY,
  statement_id INTEGER NOT NULL REFERENCES trust_statements(id),
  bank_account_id INTEGER NOT NULL REFERENCES bank_accounts(id),
  row_no INTEGER NOT NULL,
  date TEXT NOT NULL,
  description TEXT NOT NULL,
  amount_minor INTEGER NOT NULL CHECK (amount_minor != 0),
  reference TEXT,
  UNIQUE (statement_id, row_no)
) STRICT;
CREATE INDEX trust_statement_lines_account ON trust_statement_lines(bank_account_id, date);
CREATE TABLE trust_matches (
  statement_line_id INTEGER PRIMARY KEY REFERENCES trust_statement_lines(id),
  bank_account_id INTEGER NOT NULL REFERENCES bank_accounts(id),
  entry_id INTEGER NOT NULL REFERENCES journal_entries(id),
  how TEXT NOT NULL CHECK (how IN ('auto','manual')),
  matched_at TEXT NOT NULL,
  matched_by TEXT NOT NULL,
  UNIQUE (bank_account_id, entry_id)
) STRICT;
CREATE TABLE trust_outstanding (
  bank_account_id INTEGER NOT NULL REFERENCES bank_accounts(id),
  entry_id INTEGER NOT NULL REFERENCES journal_entries(id),
  marked_at TEXT NOT NULL,
  marked_by TEXT NOT NULL,
  PRIMARY KEY (bank_account_id, entry_id)
) STRICT;
CREATE TABLE trust_reconciliations (
  id INTEGER PRIMARY KEY,
  bank_account_id INTEGER NOT NULL REFERENCES bank_accounts(id),
  as_of TEXT NOT NULL,
  statement_minor INTEGER NOT NULL,
  outstanding_deposits_minor INTEGER NOT NULL,
  outstanding_cheques_minor INTEGER NOT NULL,
  adjusted_bank_minor INTEGER NOT NULL,
  book_minor INTEGER NOT NULL,
  clients_minor INTEGER NOT NULL,
  report_json TEXT NOT NULL,
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL,
  UNIQUE (bank_account_id, as_of)
) STRICT;
CREATE TRIGGER trust_reconciliations_no_update BEFORE UPDATE ON trust_reconciliations
BEGIN SELECT RAISE(ABORT, 'a saved reconciliation is never changed'); END;
CREATE TRIGGER trust_reconciliations_no_delete BEFORE DELETE ON trust_reconciliations
BEGIN SELECT RAISE(ABORT, 'a saved reconciliation is never deleted'); END;
"""


def up(conn: sqlite3.Connection) -> None:
    from core.migrations import _statements

    for statement in _statements(TABLES):
        conn.execute(statement)
    row = conn.execute("SELECT currency FROM firm WHERE id = 1").fetchone()
    currency = row[0] if row else "USD"
    conn.execute(
        "INSERT INTO trust_transactions_v2 (id, kind, client_id, matter_id, bank_account_id, date, amount_minor, "
        "currency, memo, version, status, created_at, updated_at) "
        "SELECT id, kind, client_id, matter_id, bank_account_id, date, amount_minor, ?, memo, 1, 'posted', "
        "created_at, created_at FROM trust_transactions ORDER BY id", [currency])
    conn.execute("DROP TABLE trust_transactions")
    conn.execute("ALTER TABLE trust_transactions_v2 RENAME TO trust_transactions")
    conn.execute("CREATE INDEX trust_transactions_client ON trust_transactions(client_id)")
