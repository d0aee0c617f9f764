"""Snapshots of the Accounts screen (F8) at 80x24 and 120x40 on the connected AU firm, every map done: the accounts
tab, the tax rates tab, the add-account form and the deactivate confirmation. Review an SVG before accepting it."""

from __future__ import annotations

import pytest

from tui.app import create_app
from tui_helpers import connected_and_mapped, for_sandbox, settle

SIZES = [(80, 24), (120, 40)]
KEYS = {
    "accounts": ["f8"],
    "rates": ["f8", "2"],
    "add_form": ["f8", "a"],
    "deactivate_confirm": ["f8", "down", "down", "d"],
}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("screen", sorted(KEYS))
def test_accounts_screen_snapshots(snap_compare, connected_copy, screen, size):
    s, _sandbox = connected_copy("tui-AU", connected_and_mapped, for_sandbox)

    async def navigate(pilot):
        await settle(pilot)
        for key in KEYS[screen]:
            await pilot.press(key)
            await settle(pilot)
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(create_app(s, still=True), terminal_size=size, run_before=navigate)
