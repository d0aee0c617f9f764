"""The whole keyboard path on a fresh database, in one session: every checklist step, connecting to the
local sandbox by pasting the redirect URL, all three maps and the sync switch, then an invoice, its edit,
a payment and a write-off, synced from the monitor (the parked write-off fixed on the way). At 80x24, the
smallest terminal Ledgerlink supports, where the columns and labels are cut."""

from __future__ import annotations

from test_billing import bookkeeping_by_keyboard
from test_connect_and_map import connect_and_map_by_keyboard
from test_setup_steps import walk_ledger_steps

from tui.app import create_app
from tui.screens.checklist import ChecklistScreen
from tui_helpers import for_sandbox, settle


async def test_fresh_database_to_synced_documents(settings, sandbox):
    app = create_app(for_sandbox(settings, sandbox), still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ChecklistScreen)
        await walk_ledger_steps(pilot, "AU")
        await connect_and_map_by_keyboard(pilot, sandbox, "AU")
        await bookkeeping_by_keyboard(pilot)
