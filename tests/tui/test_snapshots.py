"""Snapshots of every screen at 80x24 and 120x40, cursors still, no clocks on screen.

Review an SVG before accepting it (`--snapshot-update`): a snapshot is an assertion.
"""

from __future__ import annotations

import pytest

from core.services import ledger, qbo
from tui.app import create_app
from tui_helpers import connected_and_mapped, first_invoice_lines, for_sandbox, ready_firm, settle

SIZES = [(80, 24), (120, 40)]

# screen name -> keys pressed from the screen the app opens on (a firm ready for connection)
LEDGER_SCREENS = {
    "checklist": [],
    "billing_setup": ["enter"],
    "preferences": ["down", "down", "enter", "down", "enter"],
    "bank_accounts": ["down", "down", "down", "enter"],
    "trust": ["down", "down", "down", "down", "enter"],
    "accounts": ["down", "down", "down", "down", "down", "enter"],
    "sales_tax": ["down", "down", "down", "down", "down", "down", "enter"],
    "feature_preview": ["down", "down", "down", "down", "down", "down", "down", "enter"],
    "connect": ["down", "down", "down", "down", "down", "down", "down", "down", "enter"],
    "help": ["f1"],
    "add_account_form": ["down", "down", "down", "down", "down", "enter", "a"],
}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_fresh_database(snap_compare, settings, size):
    assert snap_compare(create_app(settings, still=True), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("screen", sorted(LEDGER_SCREENS))
def test_ledger_screens(snap_compare, settings, screen, size):
    ready_firm(settings)

    async def navigate(pilot):
        await settle(pilot)
        await pilot.press(*LEDGER_SCREENS[screen])
        await settle(pilot)

    assert snap_compare(create_app(settings, still=True), terminal_size=size, run_before=navigate)


# connected to the AU sandbox company, every map done; the tab each mapper snapshot shows
CONNECTED_SCREENS = {"monitor_parked": None, "mapper_sales": "sales", "mapper_gl": "gl", "mapper_tax": "tax",
                     "mapper_sync": "sync", "mapper_filter": "sales", "billing": None, "invoice_edit": None,
                     "reports": None, "payment_form": None, "writeoff_form": None, "delete_confirm": None,
                     "gl_picker": "gl", "new_invoice": None, "writeoff_confirm": None}
# (no snapshot of AR aging: its buckets depend on today's date)
# keys from the opening screen (the monitor) for the screens that are not mapper tabs
KEYS = {"billing": ["f5"], "invoice_edit": ["f5", "e"], "reports": ["f6"], "monitor_parked": [],
        "payment_form": ["f5", "p"], "writeoff_form": ["f5", "w"], "delete_confirm": ["f5", "x"],
        "new_invoice": ["f5", "n"], "writeoff_confirm": ["f3", "3", "w"]}
# (no snapshot of the command palette: it fills in asynchronously; tests/tui/test_shell.py drives it)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("screen", sorted(CONNECTED_SCREENS))
def test_connected_screens(snap_compare, connected_copy, screen, size):
    s, sandbox = connected_copy("tui-AU", connected_and_mapped, for_sandbox)
    app = create_app(s, still=True)
    if screen in KEYS:
        firm = app.firm
        lines = first_invoice_lines(firm)
        if screen == "monitor_parked":
            qbo.unset_mapping(firm, "sales", lines[0]["account_id"])
        client = ledger.add_client(firm, "Acme Pty")
        ledger.create_invoice(firm, client_id=client.id, date="2026-11-02", lines=lines)

    async def navigate(pilot):
        await settle(pilot)
        if screen == "monitor_parked":  # F4: with an account unmapped the setup is not done, so it opens on F2
            await pilot.press("f4")
            await pilot.pause()
            pilot.app.start_sync()
        elif screen in KEYS:
            await pilot.press(*KEYS[screen])
        else:
            await pilot.press("f3")
            await settle(pilot)
            await pilot.press(str(1 + ["sync", "sales", "gl", "tax"].index(CONNECTED_SCREENS[screen])))
            if screen == "mapper_filter":
                await pilot.press("slash", *"fee")
            if screen == "gl_picker":
                await pilot.pause()
                await pilot.press("a")
        await settle(pilot)
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=navigate)
