"""`f` on a parked invoice opens the map that fixes it with the cursor on the account it needs (issue 16, item 3),
and Enter there maps that account, not the one the cursor happened to be on."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable

from core.services import ledger, qbo
from tui.app import create_app
from tui.screens.mapper import MapperScreen
from tui.screens.monitor import SyncMonitorScreen
from tui.widgets.vlist import VirtualList
from tui_helpers import connected_and_mapped, first_invoice_lines, for_sandbox, settle


@pytest.fixture
async def sb_settings(settings, sandbox):
    s = for_sandbox(settings, sandbox)
    await connected_and_mapped(s, sandbox)
    return s


async def test_go_to_fix_puts_the_cursor_on_the_unmapped_account_then_the_tax_rate(sb_settings):
    app = create_app(sb_settings, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        firm = app.firm
        fees = [r for r in qbo.list_map(firm, "sales") if r.status == "mapped" and r.role == "income"]
        target = fees[2]  # not the first row, where the cursor starts
        qbo.unset_mapping(firm, "sales", target.ledger_id)
        line = {**first_invoice_lines(firm)[0], "account_id": target.ledger_id}
        rates = [r for r in qbo.list_map(firm, "tax") if r.status == "mapped"]
        taxed = next(r for r in rates if r.ledger_id == line["tax_rate_id"])
        qbo.unset_mapping(firm, "tax", taxed.ledger_id)
        client = ledger.add_client(firm, "Acme Pty")
        ledger.create_invoice(firm, client_id=client.id, date="2026-11-02", lines=[line])
        await pilot.press("y")
        await settle(pilot)
        monitor = app.screen
        assert isinstance(monitor, SyncMonitorScreen) and len(monitor.parked_docs) == 1

        await pilot.press("f")
        await settle(pilot)
        mapper = app.screen
        assert isinstance(mapper, MapperScreen) and mapper.tab == "sales"
        left = mapper.query_one("#sales-left", VirtualList)
        assert left.current.key == str(target.ledger_id)
        await pilot.press("tab")
        right = mapper.query_one("#sales-right", VirtualList)
        while right.current.key != target.qbo_id:
            await pilot.press("down")
        await pilot.press("shift+tab", "enter")
        await pilot.pause()
        assert next(r for r in qbo.list_map(firm, "sales") if r.ledger_id == target.ledger_id).status == "mapped"

        # The tax rate is next: f now opens the tax map on that rate.
        await pilot.press("f4")
        await pilot.pause()
        await pilot.press("f")
        await settle(pilot)
        assert mapper.tab == "tax"
        table = mapper.query_one("#tax-rows", DataTable)
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        assert key == str(taxed.ledger_id)
