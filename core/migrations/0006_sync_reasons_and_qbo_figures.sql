-- Park reasons as values (core.qbo.reasons): a code and its fields (JSON); the sentence stays in `reason`.
-- Documents parked before codes existed keep their sentence under the code 'legacy'.
ALTER TABLE sync_parked ADD COLUMN code TEXT NOT NULL DEFAULT 'legacy' CHECK (length(code) > 0);
ALTER TABLE sync_parked ADD COLUMN fields TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(fields));
-- What QBO computed at the last write of a document, beside the ledger's figures: its tax, and an invoice's
-- open Balance (lowered by the payments and credit notes pushed since). NULL: not known until the next write.
ALTER TABLE sync_links ADD COLUMN ledger_tax_minor INTEGER;
ALTER TABLE sync_links ADD COLUMN qbo_tax_minor INTEGER;
ALTER TABLE sync_links ADD COLUMN qbo_balance_minor INTEGER;
-- The per-rate tax amounts (QBO TaxLines, JSON) a document is re-sent with when the admin chose to send the
-- ledger's tax explicitly (`ledgerlink sync fix ... --resend-with-tax`); NULL: QBO computes the tax.
ALTER TABLE sync_links ADD COLUMN tax_override TEXT CHECK (tax_override IS NULL OR json_valid(tax_override));
