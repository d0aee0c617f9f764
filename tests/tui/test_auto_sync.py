"""A saved document reaches QuickBooks in seconds (issue 16, item 13): a save in Billing wakes the sync (after
a short pause, so a burst goes as one run); the monitor says how the automatic sync stands, and
`ui.auto_sync = false` switches it off (item 11)."""

from __future__ import annotations

import pytest

from core.services import ledger
from core.services import sync as sync_service
from tui.app import create_app
from tui.screens.monitor import SyncMonitorScreen
from tui_helpers import connected_and_mapped, first_invoice_lines, for_sandbox, screen_text, settle


@pytest.fixture
async def sb_settings(settings, sandbox):
    s = for_sandbox(settings, sandbox)
    await connected_and_mapped(s, sandbox)
    return s


async def wait_for(pilot, check, tries: int = 200) -> bool:
    for _ in range(tries):
        if check():
            return True
        await pilot.pause(0.05)
    return check()


async def test_a_burst_of_saves_is_synced_at_once_in_one_run(sb_settings):
    app = create_app(sb_settings, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "Automatic sync: on, seconds after each save" in screen_text(app)
        client = ledger.add_client(app.firm, "Acme Pty")
        await pilot.press("f5")
        await pilot.pause()
        billing = app.screen
        started = []
        original = app.run_sync
        app.run_sync = lambda: (started.append(1), original())[1]
        for _ in range(3):  # three saves in a row, as the form's Ctrl+S hands them back
            invoice = ledger.create_invoice(app.firm, client_id=client.id, date="2026-11-02",
                                            lines=first_invoice_lines(app.firm))
            billing.done(invoice)
        assert sync_service.queue_counts(app.firm).queued >= 3
        assert await wait_for(pilot, lambda: app.sync_running or sync_service.queue_counts(app.firm).queued == 0)
        await settle(pilot)
        counts = sync_service.queue_counts(app.firm)
        assert counts.queued == 0 and counts.parked == 0 and counts.done >= 3
        assert len(started) == 1  # the burst went as one run
        assert app.sync_summary.startswith("Last sync: ") and "pushed" in app.sync_summary


async def test_auto_sync_off_in_the_settings_leaves_saves_queued(sb_settings):
    settings = sb_settings.model_copy(update={"ui": sb_settings.ui.model_copy(update={"auto_sync": False})})
    app = create_app(settings, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, SyncMonitorScreen)
        assert "Automatic sync: off (ui.auto_sync in the settings); y syncs now." in screen_text(app)
        client = ledger.add_client(app.firm, "Acme Pty")
        await pilot.press("f5")
        await pilot.pause()
        app.screen.done(ledger.create_invoice(app.firm, client_id=client.id, date="2026-11-02",
                                              lines=first_invoice_lines(app.firm)))
        assert not app.auto_sync_tick()
        await pilot.pause(1.0)  # longer than the wake delay: nothing starts
        assert not app.sync_running and sync_service.queue_counts(app.firm).queued >= 1
