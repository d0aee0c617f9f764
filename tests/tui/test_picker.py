"""The picker: a struck-through row is refused with its reason under the list, where the eye already is."""

from __future__ import annotations

from textual.app import App

from tui.modals.picker import PickerModal
from tui.widgets.vlist import Row

ROWS = [Row("1", "Operating Account", note="Bank"),
        Row("2", "Accommodation", struck=True, note="a QuickBooks Expense account: pick one of type Bank")]


async def test_a_refused_row_says_why_below_the_list_without_a_toast_over_it():
    chosen = []
    app = App()
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(PickerModal("Map Operating Checking to a QBO account", ROWS), chosen.append)
        await pilot.pause()
        picker = app.screen
        await pilot.press("down", "enter")
        await pilot.pause()
        assert app.screen is picker and not chosen
        assert "pick one of type Bank" in str(picker.query_one("#picker-reason").render())
        assert len(app._notifications) == 0  # a toast would cover that very line at 80x24
        await pilot.press("up", "enter")
        await pilot.pause()
        assert chosen == ["1"]
