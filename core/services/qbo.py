"""QBO services for the TUI and the CLI: connect, reference data, maps and synchronisation settings.

Plain values in, frozen dataclasses out. Functions that talk to QBO come in two forms: `name_async`
(for an async worker) and `name` (blocking, for the CLI or a thread worker; it runs its own event loop).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from core.errors import ValidationError
from core.ledger.base import parse_day, require_role
from core.qbo import maps as _maps
from core.qbo import store
from core.qbo.checks import connection_info, doc_unmapped, metered_reads_of, qbo_steps, tax_code_rates
from core.qbo.client import QBOClient
from core.qbo.connect import (
    ConnectionInfo,
    DisconnectResult,
    PendingConnect,
    ProbeResult,
    begin_connect as _begin_connect,
    complete_connect_async as _complete_connect_async,
    connection_info_of,
    disconnect_async as _disconnect_async,
    latest_pending,
    open_client,
    parse_redirect,
    probe_permissions,
    wait_for_callback,
)
from core.qbo.maps import MapRow, QBOOption, Suggestion
from core.qbo.reference import RefreshDiff, apply_reference, fetch_reference, flagged_maps
from core.services import wiring  # noqa: F401  (QBO's client learns how to start the built-in sandbox)

__all__ = [
    "ConnectionInfo", "DisconnectResult", "PendingConnect", "ProbeResult", "RefreshDiff", "MapRow", "QBOOption",
    "Suggestion", "SyncSettingsInfo", "begin_connect", "latest_pending", "complete_connect", "complete_connect_async",
    "parse_redirect", "wait_for_callback", "approve_locally", "approves_locally", "disconnect", "disconnect_async", "open_client", "probe", "probe_async",
    "probe_permissions", "pull_reference", "pull_reference_async", "connection", "connection_info", "qbo_steps",
    "doc_unmapped", "tax_code_rates",
    "list_map", "list_options", "set_mapping", "unset_mapping", "suggest", "apply_suggestions", "export_map",
    "import_map", "set_sync_enabled", "sync_settings", "flagged_maps", "KINDS", "metered_reads_of", "KIND_TITLES",
    "ledger_items", "qbo_refs",
]

KINDS = _maps.KINDS
KIND_TITLES = _maps.KIND_TITLES


def ledger_items(firm, kind: str):
    """The ledger side of map `kind` (accounts, bank accounts or tax rates), as core.qbo.maps lists them."""
    return _maps.ledger_items(firm.db, kind)


def qbo_refs(firm, kind: str):
    """The QBO references map `kind` can point at."""
    return _maps.qbo_refs(firm.db, kind)


def _run(coro):
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    coro.close()
    raise RuntimeError("called the blocking form inside an event loop: await the _async form instead")


# -- connection (admin only) ---------------------------------------------------------------------
def begin_connect(firm, app=None, **kw) -> PendingConnect:
    require_role(firm, "admin", "connect to QuickBooks")
    return _begin_connect(firm, app, **kw)


async def complete_connect_async(firm, redirect_url_or_params, app=None, **kw) -> ConnectionInfo:
    require_role(firm, "admin", "connect to QuickBooks")
    return await _complete_connect_async(firm, redirect_url_or_params, app, **kw)


async def disconnect_async(firm, purge: bool = False, app=None) -> DisconnectResult:
    require_role(firm, "admin", "disconnect from QuickBooks" + (" and forget the links" if purge else ""))
    return await _disconnect_async(firm, purge, app)


def approve_locally(firm, pending: PendingConnect) -> str | None:
    """The built-in sandbox only: approve `pending` at once and return its redirect URL (else None)."""
    from core.qbo.embedded import approve_locally as _approve
    from core.services.ledger import firm_exists, get_firm_info

    country = get_firm_info(firm).country if firm_exists(firm) else None
    return _approve(firm.settings, pending.url, country)


def approves_locally(firm) -> bool:
    """True when the firm talks to the built-in sandbox, which `approve_locally` can approve without a browser."""
    from core.qbo.embedded import uses_embedded

    return uses_embedded(firm.settings)


def complete_connect(firm, redirect_url_or_params, app=None) -> ConnectionInfo:
    return _run(complete_connect_async(firm, redirect_url_or_params, app))


def disconnect(firm, purge: bool = False, app=None) -> DisconnectResult:
    return _run(disconnect_async(firm, purge, app))


def connection(firm) -> ConnectionInfo | None:
    conn = store.load_connection(firm.db)
    return connection_info_of(conn) if conn else None


async def probe_async(firm, app=None) -> ProbeResult:
    client = await open_client(firm, app)
    async with client:
        return await probe_permissions(client)


def probe(firm, app=None) -> ProbeResult:
    return _run(probe_async(firm, app))


# -- reference data ----------------------------------------------------------------------------
async def pull_reference_async(
    firm, progress: Callable[[str], None] | None = None, client: QBOClient | None = None, app=None
) -> RefreshDiff:
    """Refresh the reference cache from QBO; the maps are kept and broken ones flagged in the diff."""
    require_role(firm, "bookkeeper", "refresh the QuickBooks reference data")
    own = client is None
    client = client or await open_client(firm, app)
    try:
        pulled = await fetch_reference(client, progress)
    finally:
        if own:
            await client.aclose()
    return apply_reference(firm.db, pulled)


def pull_reference(firm, progress: Callable[[str], None] | None = None, app=None) -> RefreshDiff:
    return _run(pull_reference_async(firm, progress, app=app))


# -- maps ------------------------------------------------------------------------------------
def list_map(firm, kind: str) -> tuple[MapRow, ...]:
    return _maps.list_map(firm.db, kind)


def list_options(firm, kind: str, ledger_id: int | None = None) -> tuple[QBOOption, ...]:
    return _maps.list_options(firm.db, kind, ledger_id)


def set_mapping(firm, kind: str, ledger_id: int, qbo_id: str) -> MapRow:
    require_role(firm, "admin", "change the QuickBooks maps")
    return _maps.set_mapping(firm.db, kind, ledger_id, qbo_id, firm.user)


def unset_mapping(firm, kind: str, ledger_id: int) -> bool:
    require_role(firm, "admin", "change the QuickBooks maps")
    return _maps.unset_mapping(firm.db, kind, ledger_id)


def suggest(firm, kind: str) -> tuple[Suggestion, ...]:
    return _maps.suggest(firm.db, kind)


def apply_suggestions(firm, suggestions) -> tuple[MapRow, ...]:
    return tuple(set_mapping(firm, s.kind, s.ledger_id, s.qbo_id) for s in suggestions)


def export_map(firm, path: Path | str, kinds: tuple[str, ...] = KINDS) -> int:
    return _maps.export_map(firm.db, Path(path), kinds)


def import_map(firm, path: Path | str) -> int:
    require_role(firm, "admin", "import the QuickBooks maps")
    return _maps.import_map(firm.db, Path(path), firm.user)


# -- synchronisation settings --------------------------------------------------------------------
@dataclass(frozen=True)
class SyncSettingsInfo:
    sales_invoices: bool
    """The "Sales invoices" switch: on pushes invoices, their payments and credit notes; off keeps them queued."""
    sync_from: str | None
    """Documents dated before this ISO date are not pushed (None: everything)."""


def sync_settings(firm) -> SyncSettingsInfo:
    on, since = store.sync_settings_row(firm.db)
    return SyncSettingsInfo(on, since)


def set_sync_enabled(firm, enabled: bool, from_date: str | dt.date | None = None) -> SyncSettingsInfo:
    """Switch Sales invoices synchronisation on or off; `from_date` sets the sync-from date (kept if None)."""
    require_role(firm, "admin", "change the synchronisation settings")
    since = None
    if from_date is not None:
        since = parse_day(from_date, "The sync-from date")
        if not "1900-01-01" <= since <= "2199-12-31":
            raise ValidationError(f"The sync-from date {since} is outside the dates Ledgerlink keeps "
                                  "(1900-01-01 to 2199-12-31)")
    with firm.db.atomic():
        current_on, current_since = store.sync_settings_row(firm.db)
        firm.db.execute(
            "INSERT OR REPLACE INTO qbo_sync_settings (id, sales_invoices, sync_from, updated_at, updated_by)"
            " VALUES (1, ?, ?, ?, ?)",
            [int(bool(enabled)), since or current_since, store.now_iso(), firm.user],
        )
    return sync_settings(firm)
