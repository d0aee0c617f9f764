"""Snapshots of the sync history, a document's history, the reconcile breakdown and the invoice preview at 80x24
and 120x40: one invoice in QBO, one parked (its income account unmapped). Times and users are fixed in the
database first, so nothing on screen depends on the clock or the OS user.

Review an SVG before accepting it (`--snapshot-update`): a snapshot is an assertion."""

from __future__ import annotations

import asyncio

import pytest

from core.services import ledger, qbo
from core.services import sync as sync_service
from core.services.context import open_firm
from tui.app import create_app
from tui_helpers import connected_and_mapped, first_invoice_lines, for_sandbox, settle

SIZES = [(80, 24), (120, 40)]
KEYS = {"history": ["f4", "h"], "doc_history": ["f4", "h", "enter"], "reconcile": ["f4", "o"],
        "preview": ["f5", "down", "v"]}


def _day(settings) -> None:
    firm = open_firm(settings)
    try:
        lines = first_invoice_lines(firm)
        free = next(r for r in ledger.list_tax_rates(firm, active_only=True) if not r.rate_ppm)
        client = ledger.add_client(firm, "Acme Pty", email="accounts@acme.example",
                                   address="1 Main St\nSydney NSW 2000")
        matter = ledger.add_matter(firm, client.id, "Lease review", reference="M-1")
        ledger.create_invoice(firm, client_id=client.id, matter_id=matter.id, date="2026-11-02", lines=[
            *lines, {**lines[0], "description": "Search fee", "tax_rate_id": free.id, "quantity": "1",
                     "unit_price": "40.00"}])
        asyncio.run(sync_service.run_sync(firm))
        qbo.unset_mapping(firm, "sales", lines[0]["account_id"])
        other = ledger.add_client(firm, "Borealis Ltd")
        ledger.create_invoice(firm, client_id=other.id, date="2026-11-05", lines=lines)
        asyncio.run(sync_service.run_sync(firm))
        with firm.db.atomic():
            firm.db.execute("UPDATE sync_records SET at = '2026-11-16T09:30:00.000000Z', actor = 'maria'")
            firm.db.execute("UPDATE sync_events SET at = '2026-11-16T09:30:00.000000Z', actor = 'maria'")
    finally:
        firm.close()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("screen", sorted(KEYS))
def test_history_screens(snap_compare, connected_copy, screen, size):
    s, _sandbox = connected_copy("tui-AU", connected_and_mapped, for_sandbox)
    _day(s)
    app = create_app(s, still=True)

    async def navigate(pilot):
        await settle(pilot)
        for key in KEYS[screen]:
            await pilot.press(key)
            await settle(pilot)
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=navigate)
