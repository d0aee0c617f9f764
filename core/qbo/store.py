"""The QBO side of the firm database: connection and tokens, pending connect attempts,
the reference cache, the three maps and the synchronisation settings.

Tokens live here and nowhere else (the file is 0600); they never reach a log, a screen or an
exception. The tables are made and changed by `core.migrations`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import overload

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

def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


@overload
def iso_from_epoch(seconds: int | float) -> str:
    ...


@overload
def iso_from_epoch(seconds: None) -> None:
    ...


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
    access_lifetime: int | None = None
    refresh_hard_expires_at: int | None = None

    def __repr__(self) -> str:  # tokens stay out of reprs, tracebacks and logs
        return f"StoredConnection(environment={self.environment!r}, realm_id={self.realm_id!r})"


def load_connection(db: sqlite_utils.Database) -> StoredConnection | None:
    row = db.execute(
        "SELECT environment, realm_id, company_name, country, access_token, refresh_token, access_expires_at,"
        " refresh_expires_at, last_refresh_at, connected_at, connected_by, token_status, access_lifetime,"
        " refresh_hard_expires_at FROM qbo_connection WHERE id = 1"
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


# -- the refresh lease: one refresh at a time per company, across processes --------------------------
def take_lease(db: sqlite_utils.Database, owner: str, now: float, ttl: float, *, dead: str | None = None) -> bool | None:
    """Take the refresh lease if it is free, expired, or held by `dead` (an owner known to be gone).
    True when taken, False when another owner holds it, None when there is no connection."""
    cur = db.execute(
        "UPDATE qbo_connection SET refresh_lease_owner = ?, refresh_lease_until = ? WHERE id = 1 AND"
        " (refresh_lease_owner IS NULL OR refresh_lease_until < ? OR refresh_lease_owner = ? OR refresh_lease_owner = ?)",
        [owner, now + ttl, now, owner, dead],
    )
    if cur.rowcount:
        return True
    return None if db.execute("SELECT 1 FROM qbo_connection WHERE id = 1").fetchone() is None else False


def lease_holder(db: sqlite_utils.Database) -> str | None:
    row = db.execute("SELECT refresh_lease_owner FROM qbo_connection WHERE id = 1").fetchone()
    return row[0] if row else None


def release_lease(db: sqlite_utils.Database, owner: str) -> None:
    db.execute("UPDATE qbo_connection SET refresh_lease_owner = NULL, refresh_lease_until = NULL"
               " WHERE id = 1 AND refresh_lease_owner = ?", [owner])


def save_refreshed(db: sqlite_utils.Database, realm_id: str, owner: str, *, access_token: str, refresh_token: str,
                   access_expires_at: int, access_lifetime: int, refresh_expires_at: int | None,
                   refresh_hard_expires_at: int | None, refreshed_at: float) -> None:
    """Save a rotated pair and give the lease back, in one transaction."""
    with db.atomic():
        db.execute(
            "UPDATE qbo_connection SET access_token = ?, refresh_token = ?, access_expires_at = ?, access_lifetime = ?,"
            " refresh_expires_at = COALESCE(?, refresh_expires_at),"
            " refresh_hard_expires_at = COALESCE(?, refresh_hard_expires_at), last_refresh_at = ?,"
            " token_status = 'ok', refresh_lease_owner = NULL, refresh_lease_until = NULL"
            " WHERE id = 1 AND realm_id = ?",
            [access_token, refresh_token, access_expires_at, access_lifetime, refresh_expires_at,
             refresh_hard_expires_at, iso_from_epoch(refreshed_at), realm_id],
        )
        release_lease(db, owner)


def mark_rejected(db: sqlite_utils.Database, refresh_token: str) -> None:
    """The refresh token QBO refused: marked so (only if no newer one was saved meanwhile)."""
    db.execute("UPDATE qbo_connection SET token_status = 'rejected' WHERE id = 1 AND refresh_token = ?",
               [refresh_token])
