-- Schema 1: the firm database as the first release made it (ledger, QBO store, sync store).
-- Frozen: later changes are new numbered migrations, never edits here.

-- ledger
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
  type TEXT NOT NULL CHECK (type IN ('Bank', 'Accounts Receivable', 'Other Current Asset', 'Fixed Asset', 'Other Asset', 'Accounts Payable', 'Credit Card', 'Other Current Liability', 'Long Term Liability', 'Equity', 'Income', 'Other Income', 'Cost of Goods Sold', 'Expense', 'Other Expense')),
  subtype TEXT NOT NULL CHECK (subtype IN ('operating_bank', 'trust_bank', 'receivable', 'trust_liability', 'fee_income', 'expense_recovery', 'discount', 'sales_tax', 'bad_debt', 'general')),
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

-- QBO connection, reference cache and maps
CREATE TABLE IF NOT EXISTS qbo_connection (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  environment TEXT NOT NULL CHECK (environment IN ('production','sandbox','local')),
  realm_id TEXT NOT NULL CHECK (length(realm_id) > 0),
  company_name TEXT,
  country TEXT,
  access_token TEXT NOT NULL,
  refresh_token TEXT NOT NULL,
  access_expires_at INTEGER NOT NULL,
  refresh_expires_at INTEGER,
  last_refresh_at TEXT,
  connected_at TEXT NOT NULL,
  connected_by TEXT NOT NULL,
  token_status TEXT NOT NULL DEFAULT 'ok' CHECK (token_status IN ('ok','rejected'))
) STRICT;

CREATE TABLE IF NOT EXISTS qbo_pending_connect (
  state TEXT PRIMARY KEY,
  environment TEXT NOT NULL,
  redirect_uri TEXT NOT NULL,
  url TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','done','failed'))
) STRICT;

CREATE TABLE IF NOT EXISTS qbo_company (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  company_name TEXT NOT NULL,
  country TEXT NOT NULL DEFAULT '',
  company_json TEXT NOT NULL,
  preferences_json TEXT NOT NULL,
  pulled_at TEXT NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS qbo_maps (
  kind TEXT NOT NULL CHECK (kind IN ('sales','gl','tax')),
  ledger_id INTEGER NOT NULL,
  qbo_id TEXT NOT NULL,
  set_at TEXT NOT NULL,
  set_by TEXT NOT NULL,
  PRIMARY KEY (kind, ledger_id),
  UNIQUE (kind, qbo_id)
) STRICT;

CREATE TABLE IF NOT EXISTS qbo_sync_settings (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  sales_invoices INTEGER NOT NULL DEFAULT 0 CHECK (sales_invoices IN (0,1)),
  sync_from TEXT,
  updated_at TEXT NOT NULL,
  updated_by TEXT NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS qbo_accounts (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  active INTEGER NOT NULL CHECK (active IN (0,1)),
  present INTEGER NOT NULL DEFAULT 1 CHECK (present IN (0,1)),
  type TEXT NOT NULL DEFAULT '',
  subtype TEXT NOT NULL DEFAULT '',
  rate TEXT,
  taxable INTEGER,
  sync_token TEXT,
  json TEXT NOT NULL,
  pulled_at TEXT NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS qbo_items (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  active INTEGER NOT NULL CHECK (active IN (0,1)),
  present INTEGER NOT NULL DEFAULT 1 CHECK (present IN (0,1)),
  type TEXT NOT NULL DEFAULT '',
  subtype TEXT NOT NULL DEFAULT '',
  rate TEXT,
  taxable INTEGER,
  sync_token TEXT,
  json TEXT NOT NULL,
  pulled_at TEXT NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS qbo_tax_codes (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  active INTEGER NOT NULL CHECK (active IN (0,1)),
  present INTEGER NOT NULL DEFAULT 1 CHECK (present IN (0,1)),
  type TEXT NOT NULL DEFAULT '',
  subtype TEXT NOT NULL DEFAULT '',
  rate TEXT,
  taxable INTEGER,
  sync_token TEXT,
  json TEXT NOT NULL,
  pulled_at TEXT NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS qbo_tax_rates (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  active INTEGER NOT NULL CHECK (active IN (0,1)),
  present INTEGER NOT NULL DEFAULT 1 CHECK (present IN (0,1)),
  type TEXT NOT NULL DEFAULT '',
  subtype TEXT NOT NULL DEFAULT '',
  rate TEXT,
  taxable INTEGER,
  sync_token TEXT,
  json TEXT NOT NULL,
  pulled_at TEXT NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS qbo_customers (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  active INTEGER NOT NULL CHECK (active IN (0,1)),
  present INTEGER NOT NULL DEFAULT 1 CHECK (present IN (0,1)),
  type TEXT NOT NULL DEFAULT '',
  subtype TEXT NOT NULL DEFAULT '',
  rate TEXT,
  taxable INTEGER,
  sync_token TEXT,
  json TEXT NOT NULL,
  pulled_at TEXT NOT NULL
) STRICT;

-- sync queue links and records
CREATE TABLE IF NOT EXISTS sync_meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS sync_links (
  doc_type TEXT NOT NULL CHECK (doc_type IN ('invoice','payment','credit_note')),
  doc_id INTEGER NOT NULL,
  generation INTEGER NOT NULL DEFAULT 0 CHECK (generation >= 0),
  tries INTEGER NOT NULL DEFAULT 0 CHECK (tries >= 0),
  qbo_type TEXT CHECK (qbo_type IN ('Invoice','Payment','CreditMemo')),
  qbo_id TEXT,
  sync_token TEXT,
  pushed_version INTEGER,
  pushed_action TEXT CHECK (pushed_action IN ('upsert','delete')),
  apply_id TEXT,
  apply_sync_token TEXT,
  apply_version INTEGER,
  ledger_total_minor INTEGER,
  qbo_total_minor INTEGER,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (doc_type, doc_id),
  CHECK ((qbo_id IS NULL) = (sync_token IS NULL))
) STRICT;
CREATE UNIQUE INDEX IF NOT EXISTS sync_links_qbo ON sync_links(qbo_type, qbo_id) WHERE qbo_id IS NOT NULL;

CREATE TABLE IF NOT EXISTS sync_customers (
  client_id INTEGER PRIMARY KEY,
  qbo_id TEXT,
  display_name TEXT NOT NULL,
  generation INTEGER NOT NULL DEFAULT 0,
  updated_at TEXT NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS sync_pending (
  request_id TEXT PRIMARY KEY,
  is_batch INTEGER NOT NULL CHECK (is_batch IN (0,1)),
  body TEXT NOT NULL,
  items TEXT NOT NULL,
  created_at TEXT NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS sync_records (
  id INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  doc_type TEXT NOT NULL,
  doc_id INTEGER NOT NULL,
  version INTEGER,
  operation TEXT NOT NULL,
  request_id TEXT,
  outcome TEXT NOT NULL CHECK (outcome IN ('ok','parked','retry','gone','stale')),
  request TEXT,
  response TEXT,
  fault_code TEXT,
  fault_message TEXT,
  intuit_tid TEXT
) STRICT;
CREATE INDEX IF NOT EXISTS sync_records_doc ON sync_records(doc_type, doc_id, id);

CREATE TABLE IF NOT EXISTS sync_parked (
  doc_type TEXT NOT NULL,
  doc_id INTEGER NOT NULL,
  version INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('local','qbo')),
  reason TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  record_id INTEGER,
  parked_at TEXT NOT NULL,
  PRIMARY KEY (doc_type, doc_id)
) STRICT;
