"""The sync monitor: a sync in the background pushes an invoice to the sandbox; a parked invoice (its
income account unmapped) is fixed from the monitor by jumping to the map, then retried and synced."""

from __future__ import annotations

import pytest

from core.services import ledger, qbo
from core.services import sync as sync_service
from core.services import writeoff
from tui.app import create_app
from tui.modals.confirm import ConfirmModal
from tui.modals.text import TextModal
from tui.screens.mapper import MapperScreen
from tui.screens.monitor import SyncMonitorScreen
from tui.widgets.vlist import VirtualList
from tui_helpers import connected_and_mapped, first_invoice_lines, for_sandbox, screen_text, settle


@pytest.fixture
def sb_settings(connected_copy):
    return connected_copy("tui-AU", connected_and_mapped, for_sandbox)[0]


async def test_finished_setup_opens_on_the_monitor_and_syncs(sb_settings):
    app = create_app(sb_settings, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, SyncMonitorScreen)
        client = ledger.add_client(app.firm, "Acme Pty")
        ledger.create_invoice(app.firm, client_id=client.id, date="2026-11-02", lines=first_invoice_lines(app.firm))
        app.screen.refresh_queue()
        assert "Queued 1 " in str(app.screen.query_one("#counts").render())
        await pilot.press("y")
        await settle(pilot)
        counts = sync_service.queue_counts(app.firm)
        assert counts.done >= 1 and counts.parked == 0 and counts.queued == 0
        assert f"Done {counts.done}" in str(app.screen.query_one("#counts").render())
        assert "pushed" in app.sync_summary
        # A sync with nothing to send draws no throughput (one reading used to fill the sparkline).
        await pilot.press("y")
        await settle(pilot)
        assert app.sync_summary.startswith("Last sync: 0 pushed")
        sparkline = app.screen.query_one("#throughput")
        assert "█" not in sparkline.render_lines(sparkline.region.reset_offset)[0].text


async def test_parked_invoice_fixed_from_the_monitor(sb_settings):
    app = create_app(sb_settings, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        lines = first_invoice_lines(app.firm)
        account_id = lines[0]["account_id"]
        qbo_id = next(r.qbo_id for r in qbo.list_map(app.firm, "sales") if r.ledger_id == account_id)
        qbo.unset_mapping(app.firm, "sales", account_id)
        client = ledger.add_client(app.firm, "Acme Pty")
        ledger.create_invoice(app.firm, client_id=client.id, date="2026-11-02", lines=lines)
        await pilot.press("y")
        await settle(pilot)
        monitor = app.screen
        assert isinstance(monitor, SyncMonitorScreen)
        assert len(monitor.parked_docs) == 1
        reason = monitor.parked_docs[0].reason
        assert "Sales invoice account map" in reason
        assert reason in str(monitor.query_one("#parked-reason").render())
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, TextModal)
        assert "Reason:" in app.screen.body
        await pilot.press("escape", "v")
        await settle(pilot)
        assert isinstance(app.screen, TextModal) and "would be parked" in app.screen.body
        await pilot.press("escape")
        await pilot.pause()

        # f jumps to the sales map; map the account again there.
        await pilot.press("f")
        await settle(pilot)
        mapper = app.screen
        assert isinstance(mapper, MapperScreen) and mapper.tab == "sales"
        left = mapper.query_one("#sales-left", VirtualList)
        right = mapper.query_one("#sales-right", VirtualList)
        assert left.has_focus
        while left.current.key != str(account_id):
            await pilot.press("down")
        await pilot.press("tab")
        while right.current.key != qbo_id:
            await pilot.press("down")
        await pilot.press("shift+tab", "enter")
        await pilot.pause()
        assert any(r.ledger_id == account_id and r.status == "mapped" for r in qbo.list_map(app.firm, "sales"))

        # back in the monitor: r retries it, y syncs it.
        await pilot.press("f4")
        await pilot.pause()
        assert app.screen is monitor
        await pilot.press("r", "y")
        await settle(pilot)
        counts = sync_service.queue_counts(app.firm)
        assert counts.parked == 0 and counts.queued == 0, counts
        assert monitor.query_one("#parked").row_count == 0


async def test_the_open_app_pushes_queued_documents_by_itself(sb_settings):
    app = create_app(sb_settings, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.auto_sync_tick() is False  # nothing queued: nothing to do
        client = ledger.add_client(app.firm, "Acme Pty")
        ledger.create_invoice(app.firm, client_id=client.id, date="2026-11-02", lines=first_invoice_lines(app.firm))
        assert app.auto_sync_tick() is True  # what the app's timer does every AUTO_SYNC_SECONDS
        await settle(pilot)
        counts = sync_service.queue_counts(app.firm)
        assert counts.queued == 0 and counts.done == 1, counts
        qbo.set_sync_enabled(app.firm, False)
        ledger.create_invoice(app.firm, client_id=client.id, date="2026-11-03", lines=first_invoice_lines(app.firm))
        assert app.auto_sync_tick() is False  # the Sales invoices switch is off: it waits in the queue


async def test_billing_list_follows_a_background_sync(sb_settings):
    app = create_app(sb_settings, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        client = ledger.add_client(app.firm, "Acme Pty")
        ledger.create_invoice(app.firm, client_id=client.id, date="2026-11-02", lines=first_invoice_lines(app.firm))
        await pilot.press("f5")
        await pilot.pause()
        table = app.screen.query_one("#invoice-table")
        assert table.get_row_at(0)[-1] == "to send"
        assert app.auto_sync_tick()  # the app's timer, while the bookkeeper stays on the billing screen
        await settle(pilot)
        assert table.get_row_at(0)[-1] == "in QBO"


async def test_writeoff_item_created_from_the_gl_map(sb_settings):
    app = create_app(sb_settings, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f3", "3")
        await settle(pilot)
        mapper = app.screen
        assert isinstance(mapper, MapperScreen) and mapper.tab == "gl"
        assert "w Write-off item" in screen_text(app)
        await pilot.press("w")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal) and "Bad debt written off" in app.screen.question
        await pilot.press("y")
        await settle(pilot)
        assert [fix.item_name for fix in writeoff.writeoff_fixes(app.firm)] == ["Bad debt written off"]
        await pilot.press("w")  # nothing left to create: it says so
        await pilot.pause()
        assert isinstance(app.screen, TextModal) and "Nothing to do" in app.screen.body


async def test_dry_run_shows_a_sendable_invoice_with_its_exact_amounts(sb_settings):
    # Only a parked document had been dry-run: a sendable one's Decimal amounts crashed the whole TUI.
    app = create_app(sb_settings, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        client = ledger.add_client(app.firm, "Acme Pty")
        ledger.create_invoice(app.firm, client_id=client.id, date="2026-11-02", lines=first_invoice_lines(app.firm))
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, TextModal)
        body = app.screen.body
        assert "create Invoice" in body
        assert '"UnitPrice": 150.00' in body and '"Qty": 2' in body  # exact numbers, not strings or floats
        assert not app._notifications  # the "Building the payloads" toast does not sit over them


async def test_a_sync_from_the_monitor_tells_its_result_there_without_toasts_over_the_reason(sb_settings):
    app = create_app(sb_settings, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        monitor = app.screen
        assert isinstance(monitor, SyncMonitorScreen)
        client = ledger.add_client(app.firm, "Acme Pty")
        ledger.create_invoice(app.firm, client_id=client.id, date="2026-11-02", lines=first_invoice_lines(app.firm))
        await pilot.press("y")
        await settle(pilot)
        # under counts that move on: it says it is the last sync's
        assert str(monitor.query_one("#run-state").render()).startswith("Last sync: 1 pushed, 0 parked")
        assert len(app._notifications) == 0  # 'Sync started.' and the summary piled up over the parked reason
        # elsewhere the summary still comes as a toast
        ledger.create_invoice(app.firm, client_id=client.id, date="2026-11-03", lines=first_invoice_lines(app.firm))
        await pilot.press("f5")
        assert app.auto_sync_tick()  # the app's own timer, while the bookkeeper is on the billing screen
        await settle(pilot)
        assert any("1 pushed" in n.message for n in app._notifications)
