-- Tax rates with components (GST 5% + PST 7%), each posting to its own liability account; tax adjustments
-- recorded through the journal when a bookkeeper accepts QuickBooks' tax figure for an invoice.
-- tax_rates.rate_ppm stays the sum of the components and tax_rates.tax_account_id the first one's account.
CREATE TABLE IF NOT EXISTS tax_rate_components (
  id INTEGER PRIMARY KEY,
  tax_rate_id INTEGER NOT NULL REFERENCES tax_rates(id),
  seq INTEGER NOT NULL CHECK (seq >= 1),
  name TEXT NOT NULL CHECK (length(name) > 0),
  rate_ppm INTEGER NOT NULL CHECK (rate_ppm BETWEEN 1 AND 1000000),
  tax_account_id INTEGER NOT NULL REFERENCES accounts(id),
  UNIQUE (tax_rate_id, seq)
) STRICT;

-- Every existing non-zero rate becomes one component of its own percent and account: it posts as before.
INSERT INTO tax_rate_components (tax_rate_id, seq, name, rate_ppm, tax_account_id)
  SELECT id, 1, name, rate_ppm, tax_account_id FROM tax_rates WHERE rate_ppm > 0 AND tax_account_id IS NOT NULL;

CREATE TABLE IF NOT EXISTS tax_adjustments (
  id INTEGER PRIMARY KEY,
  invoice_id INTEGER NOT NULL REFERENCES invoices(id),
  invoice_version INTEGER NOT NULL,
  tax_rate_id INTEGER NOT NULL REFERENCES tax_rates(id),
  component_id INTEGER NOT NULL REFERENCES tax_rate_components(id),
  date TEXT NOT NULL,
  amount_minor INTEGER NOT NULL CHECK (amount_minor != 0),
  reason TEXT NOT NULL CHECK (length(reason) > 0),
  entry_id INTEGER NOT NULL UNIQUE REFERENCES journal_entries(id),
  created_at TEXT NOT NULL,
  user TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS tax_adjustments_invoice ON tax_adjustments(invoice_id, invoice_version);
