-- Sync history: who ran the sync that made each request (the OS user, or 'automatic' for the TUI's own runs),
-- and each park reason's life (parked, retried, resolved). NULL actor: recorded before history was kept.
ALTER TABLE sync_records ADD COLUMN actor TEXT;
CREATE TABLE IF NOT EXISTS sync_events (
  id INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  doc_type TEXT NOT NULL,
  doc_id INTEGER NOT NULL,
  version INTEGER,
  event TEXT NOT NULL CHECK (event IN ('parked','retried','resolved')),
  code TEXT,
  fields TEXT CHECK (fields IS NULL OR json_valid(fields)),
  reason TEXT,
  actor TEXT
) STRICT;
CREATE INDEX IF NOT EXISTS sync_events_doc ON sync_events(doc_type, doc_id, id);
-- What is parked now was parked before history was kept: its reason is the first event of its history.
INSERT INTO sync_events (at, doc_type, doc_id, version, event, code, fields, reason, actor)
  SELECT parked_at, doc_type, doc_id, version, 'parked', code, fields, reason, NULL FROM sync_parked ORDER BY parked_at;
