"""The ledger's tables: STRICT, with CHECK constraints; posted journal rows and the audit log are append-only.

Money is INTEGER minor units of the firm's home currency. Dates are ISO `YYYY-MM-DD` text,
timestamps ISO-8601 UTC text. Every statement is idempotent (`IF NOT EXISTS`), so `ensure_schema`
runs on every open.

Balances are never stored: they are sums over `journal_lines` (beancount's rule).
"""

from __future__ import annotations

import sqlite_utils

ACCOUNT_TYPES = (
    "Bank",
    "Accounts Receivable",
    "Other Current Asset",
    "Fixed Asset",
    "Other Asset",
    "Accounts Payable",
    "Credit Card",
    "Other Current Liability",
    "Long Term Liability",
    "Equity",
    "Income",
    "Other Income",
    "Cost of Goods Sold",
    "Expense",
    "Other Expense",
)
# Types whose balance is normally a debit.
DEBIT_TYPES = frozenset(
    {"Bank", "Accounts Receivable", "Other Current Asset", "Fixed Asset", "Other Asset",
     "Cost of Goods Sold", "Expense", "Other Expense"}
)
# The role an account plays in the ledger, and the types it may have.
SUBTYPES: dict[str, frozenset[str]] = {
    "operating_bank": frozenset({"Bank"}),
    "trust_bank": frozenset({"Bank"}),
    "receivable": frozenset({"Accounts Receivable"}),
    "trust_liability": frozenset({"Other Current Liability"}),
    "fee_income": frozenset({"Income"}),
    "expense_recovery": frozenset({"Income", "Other Income"}),
    "discount": frozenset({"Income"}),
    "sales_tax": frozenset({"Other Current Liability"}),
    "bad_debt": frozenset({"Expense", "Other Expense"}),
    "general": frozenset(ACCOUNT_TYPES),
}
# Types an invoice or credit-note line may post to.
LINE_TYPES = frozenset({"Income", "Other Income"})


def _in(values) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


SCHEMA = f"""
CREATE TABLE IF NOT EXISTS firm (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  name TEXT NOT NULL CHECK (length(name) > 0),
  country TEXT NOT NULL CHECK (country IN ('US','CA','UK','AU','NZ')),
  currency TEXT NOT NULL CHECK (currency IN ('USD','CAD','GBP','AUD','NZD')),
  accounting_system TEXT NOT NULL DEFAULT 'builtin' CHECK (accounting_system IN ('builtin','external')),
  method TEXT NOT NULL DEFAULT 'accrual' CHECK (method IN ('accrual','cash')),
  fiscal_year_start INTEGER NOT NULL DEFAULT 1 CHECK (fiscal_year_start BETWEEN 1 AND 12),
  chart_template TEXT,
  no_client_money INTEGER NOT NULL DEFAULT 0 CHECK (no_client_money IN (0,1)),
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS feature_previews (
  name TEXT PRIMARY KEY,
  enabled INTEGER NOT NULL CHECK (enabled IN (0,1)),
  updated_at TEXT NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS users (
  name TEXT PRIMARY KEY,
  role TEXT NOT NULL CHECK (role IN ('admin','bookkeeper')),
  granted_by TEXT NOT NULL,
  granted_at TEXT NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS audit_log (
  id INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  user TEXT NOT NULL,
  action TEXT NOT NULL,
  entity TEXT NOT NULL,
  entity_id INTEGER,
  detail TEXT
) STRICT;
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

CREATE TABLE IF NOT EXISTS sequences (
  name TEXT PRIMARY KEY,
  next INTEGER NOT NULL CHECK (next >= 1)
) STRICT;

CREATE TABLE IF NOT EXISTS accounts (
  id INTEGER PRIMARY KEY,
  code TEXT NOT NULL UNIQUE CHECK (length(code) > 0),
  name TEXT NOT NULL CHECK (length(name) > 0),
  type TEXT NOT NULL CHECK (type IN ({_in(ACCOUNT_TYPES)})),
  subtype TEXT NOT NULL CHECK (subtype IN ({_in(SUBTYPES)})),
  active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0,1)),
  from_template INTEGER NOT NULL DEFAULT 0 CHECK (from_template IN (0,1))
) STRICT;

CREATE TABLE IF NOT EXISTS tax_rates (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE CHECK (length(name) > 0),
  rate_ppm INTEGER NOT NULL CHECK (rate_ppm BETWEEN 0 AND 1000000),
  exempt INTEGER NOT NULL DEFAULT 0 CHECK (exempt IN (0,1)),
  tax_account_id INTEGER REFERENCES accounts(id),
  active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0,1)),
  CHECK (rate_ppm = 0 OR tax_account_id IS NOT NULL)
) STRICT;

CREATE TABLE IF NOT EXISTS contacts (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL CHECK (length(name) > 0),
  kind TEXT NOT NULL CHECK (kind IN ('client','bank')),
  email TEXT,
  phone TEXT,
  address TEXT,
  active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0,1)),
  UNIQUE (kind, name)
) STRICT;

CREATE TABLE IF NOT EXISTS matters (
  id INTEGER PRIMARY KEY,
  client_id INTEGER NOT NULL REFERENCES contacts(id),
  reference TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL CHECK (length(name) > 0),
  open INTEGER NOT NULL DEFAULT 1 CHECK (open IN (0,1))
) STRICT;
CREATE INDEX IF NOT EXISTS matters_client ON matters(client_id);

CREATE TABLE IF NOT EXISTS bank_accounts (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE CHECK (length(name) > 0),
  kind TEXT NOT NULL CHECK (kind IN ('operating','trust')),
  bank_contact_id INTEGER NOT NULL REFERENCES contacts(id),
  gl_account_id INTEGER NOT NULL UNIQUE REFERENCES accounts(id)
) STRICT;

CREATE TABLE IF NOT EXISTS invoices (
  id INTEGER PRIMARY KEY,
  number TEXT NOT NULL UNIQUE,
  client_id INTEGER NOT NULL REFERENCES contacts(id),
  matter_id INTEGER REFERENCES matters(id),
  date TEXT NOT NULL,
  due_date TEXT NOT NULL,
  currency TEXT NOT NULL,
  version INTEGER NOT NULL CHECK (version >= 1),
  status TEXT NOT NULL CHECK (status IN ('posted','deleted')),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  CHECK (due_date >= date)
) STRICT;
CREATE INDEX IF NOT EXISTS invoices_client ON invoices(client_id);

-- One set of lines per invoice version; the current lines are those of invoices.version.
CREATE TABLE IF NOT EXISTS invoice_lines (
  id INTEGER PRIMARY KEY,
  invoice_id INTEGER NOT NULL REFERENCES invoices(id),
  version INTEGER NOT NULL,
  line_no INTEGER NOT NULL,
  description TEXT NOT NULL,
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  tax_rate_id INTEGER NOT NULL REFERENCES tax_rates(id),
  quantity_milli INTEGER NOT NULL CHECK (quantity_milli > 0),
  unit_price_minor INTEGER NOT NULL CHECK (unit_price_minor >= 0),
  amount_minor INTEGER NOT NULL CHECK (amount_minor >= 0),
  tax_minor INTEGER NOT NULL CHECK (tax_minor >= 0),
  UNIQUE (invoice_id, version, line_no)
) STRICT;

CREATE TABLE IF NOT EXISTS payments (
  id INTEGER PRIMARY KEY,
  client_id INTEGER NOT NULL REFERENCES contacts(id),
  date TEXT NOT NULL,
  amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
  currency TEXT NOT NULL,
  bank_account_id INTEGER NOT NULL REFERENCES bank_accounts(id),
  from_trust INTEGER NOT NULL DEFAULT 0 CHECK (from_trust IN (0,1)),
  trust_bank_account_id INTEGER REFERENCES bank_accounts(id),
  reference TEXT,
  version INTEGER NOT NULL CHECK (version >= 1),
  status TEXT NOT NULL CHECK (status IN ('posted','deleted')),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  CHECK (from_trust = 0 OR trust_bank_account_id IS NOT NULL)
) STRICT;
CREATE INDEX IF NOT EXISTS payments_client ON payments(client_id);

CREATE TABLE IF NOT EXISTS payment_allocations (
  payment_id INTEGER NOT NULL REFERENCES payments(id),
  version INTEGER NOT NULL,
  invoice_id INTEGER NOT NULL REFERENCES invoices(id),
  amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
  PRIMARY KEY (payment_id, version, invoice_id)
) STRICT;
CREATE INDEX IF NOT EXISTS payment_allocations_invoice ON payment_allocations(invoice_id);

CREATE TABLE IF NOT EXISTS credit_notes (
  id INTEGER PRIMARY KEY,
  number TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL CHECK (kind IN ('credit','writeoff')),
  invoice_id INTEGER NOT NULL REFERENCES invoices(id),
  client_id INTEGER NOT NULL REFERENCES contacts(id),
  date TEXT NOT NULL,
  currency TEXT NOT NULL,
  version INTEGER NOT NULL CHECK (version >= 1),
  status TEXT NOT NULL CHECK (status IN ('posted','deleted')),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS credit_notes_invoice ON credit_notes(invoice_id);

CREATE TABLE IF NOT EXISTS credit_note_lines (
  id INTEGER PRIMARY KEY,
  credit_note_id INTEGER NOT NULL REFERENCES credit_notes(id),
  version INTEGER NOT NULL,
  line_no INTEGER NOT NULL,
  description TEXT NOT NULL,
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  tax_rate_id INTEGER REFERENCES tax_rates(id),
  amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
  tax_minor INTEGER NOT NULL CHECK (tax_minor >= 0),
  UNIQUE (credit_note_id, version, line_no)
) STRICT;

CREATE TABLE IF NOT EXISTS trust_transactions (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('receipt','disbursement')),
  client_id INTEGER NOT NULL REFERENCES contacts(id),
  matter_id INTEGER REFERENCES matters(id),
  bank_account_id INTEGER NOT NULL REFERENCES bank_accounts(id),
  date TEXT NOT NULL,
  amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
  memo TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS journal_entries (
  id INTEGER PRIMARY KEY,
  date TEXT NOT NULL,
  doc_type TEXT NOT NULL CHECK (doc_type IN ('invoice','payment','credit_note','trust')),
  doc_id INTEGER NOT NULL,
  doc_version INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('post','reversal')),
  memo TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  user TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS journal_entries_doc ON journal_entries(doc_type, doc_id);

-- amount_minor is signed: debit > 0, credit < 0. Each entry sums to zero (checked in the write).
CREATE TABLE IF NOT EXISTS journal_lines (
  id INTEGER PRIMARY KEY,
  entry_id INTEGER NOT NULL REFERENCES journal_entries(id),
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  amount_minor INTEGER NOT NULL CHECK (amount_minor != 0),
  client_id INTEGER REFERENCES contacts(id),
  matter_id INTEGER REFERENCES matters(id),
  invoice_id INTEGER REFERENCES invoices(id)
) STRICT;
CREATE INDEX IF NOT EXISTS journal_lines_entry ON journal_lines(entry_id);
CREATE INDEX IF NOT EXISTS journal_lines_account ON journal_lines(account_id, amount_minor);
CREATE INDEX IF NOT EXISTS journal_lines_invoice ON journal_lines(invoice_id, account_id, amount_minor)
  WHERE invoice_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS journal_lines_client ON journal_lines(client_id, account_id, amount_minor)
  WHERE client_id IS NOT NULL;
CREATE TRIGGER IF NOT EXISTS journal_lines_no_update BEFORE UPDATE ON journal_lines
BEGIN SELECT RAISE(ABORT, 'posted journal rows are never changed: post a reversal'); END;
CREATE TRIGGER IF NOT EXISTS journal_lines_no_delete BEFORE DELETE ON journal_lines
BEGIN SELECT RAISE(ABORT, 'posted journal rows are never deleted: post a reversal'); END;
CREATE TRIGGER IF NOT EXISTS journal_entries_no_update BEFORE UPDATE ON journal_entries
BEGIN SELECT RAISE(ABORT, 'posted journal rows are never changed: post a reversal'); END;
CREATE TRIGGER IF NOT EXISTS journal_entries_no_delete BEFORE DELETE ON journal_entries
BEGIN SELECT RAISE(ABORT, 'posted journal rows are never deleted: post a reversal'); END;

-- The transactional outbox (contract with the sync engine, which owns every other use of it).
CREATE TABLE IF NOT EXISTS sync_queue (
  doc_type TEXT NOT NULL CHECK (doc_type IN ('invoice','payment','credit_note')),
  doc_id INTEGER NOT NULL,
  version INTEGER NOT NULL,
  action TEXT NOT NULL CHECK (action IN ('upsert','delete')),
  state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued','sending','done','parked')),
  reason TEXT, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at TEXT, updated_at TEXT NOT NULL,
  PRIMARY KEY (doc_type, doc_id)) STRICT;
"""


def ensure_schema(db: sqlite_utils.Database) -> None:
    """Create every ledger table, index and trigger that does not exist yet (idempotent)."""
    db.conn.executescript(SCHEMA)
