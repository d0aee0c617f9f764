"""The QBO side of the firm database: connection and tokens, pending connect attempts,
the reference cache, the three maps and the synchronisation settings.

Tokens live here and nowhere else (the file is 0600); they never reach a log, a screen or an
exception. Every statement is idempotent so `ensure_schema` runs on every open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import sqlite_utils

MAP_KINDS = ("sales", "gl", "tax")

# Reference entities pulled from QBO, and the cache table of each.
REF_TABLES = {
    "Account": "qbo_accounts",
    "Item": "qbo_items",
    "TaxCode": "qbo_tax_codes",
    "TaxRate": "qbo_tax_rates",
    "Customer": "qbo_customers",
}

_REF_COLUMNS = """
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
"""

SCHEMA = (
    """
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
"""
    + "".join(f"\nCREATE TABLE IF NOT EXISTS {table} ({_REF_COLUMNS}) STRICT;\n" for table in REF_TABLES.values())
)


def ensure_schema(db: sqlite_utils.Database) -> None:
    """Create the QBO tables that do not exist yet (idempotent)."""
    db.conn.executescript(SCHEMA)


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def iso_from_epoch(seconds: int | float | None) -> str | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(int(seconds), timezone.utc).isoformat()


@dataclass(frozen=True)
class StoredConnection:
    """The connection row (tokens included): for core.qbo only, never shown or logged."""

    environment: str
    realm_id: str
    company_name: str | None
    country: str | None
    access_token: str
    refresh_token: str
    access_expires_at: int
    refresh_expires_at: int | None
    last_refresh_at: str | None
    connected_at: str
    connected_by: str
    token_status: str

    def __repr__(self) -> str:  # tokens stay out of reprs, tracebacks and logs
        return f"StoredConnection(environment={self.environment!r}, realm_id={self.realm_id!r})"


def load_connection(db: sqlite_utils.Database) -> StoredConnection | None:
    row = db.execute(
        "SELECT environment, realm_id, company_name, country, access_token, refresh_token, access_expires_at,"
        " refresh_expires_at, last_refresh_at, connected_at, connected_by, token_status"
        " FROM qbo_connection WHERE id = 1"
    ).fetchone()
    return StoredConnection(*row) if row else None


def save_connection(db: sqlite_utils.Database, **values) -> None:
    """Insert or replace the single connection row (inside the caller's transaction if any)."""
    columns = ", ".join(["id", *values])
    marks = ", ".join(["1", *("?" for _ in values)])
    db.execute(f"INSERT OR REPLACE INTO qbo_connection ({columns}) VALUES ({marks})", list(values.values()))


def sync_settings_row(db: sqlite_utils.Database) -> tuple[bool, str | None]:
    row = db.execute("SELECT sales_invoices, sync_from FROM qbo_sync_settings WHERE id = 1").fetchone()
    return (bool(row[0]), row[1]) if row else (False, None)
