"""Connecting to the local sandbox by pasting the redirect URL, then mapping all three maps and turning
sync on, keyboard only, until the checklist is complete (`connect_and_map_by_keyboard`, walked by
tests/tui/test_full_path.py at 80x24), and the mapper's own behaviours."""

from __future__ import annotations

import re

import pytest
from textual import events
from textual.widgets import DataTable, Input, TabbedContent

from core.services import qbo
from core.services import setup as setup_service
from tui.app import create_app
from tui.modals.picker import PickerModal
from tui.modals.suggest import SuggestModal
from tui.screens.checklist import ChecklistScreen
from tui.screens.connect import ConnectScreen
from tui.screens.mapper import MapperScreen
from tui.widgets.vlist import VirtualList
from tui_helpers import connected_and_mapped, for_sandbox, ready_firm, screen_text, settle


@pytest.fixture
def sb_settings(settings, sandbox):
    s = for_sandbox(settings, sandbox)
    ready_firm(s)
    return s


async def connect(pilot, sandbox, country: str = "AU") -> ConnectScreen:
    """From the checklist: `n` jumps to the next step to do (connecting), Enter opens it, `c` starts."""
    app = pilot.app
    assert isinstance(app.screen, ChecklistScreen)
    await pilot.press("n", "enter")
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, ConnectScreen)
    await pilot.press("c")
    await settle(pilot)
    assert screen.pending is not None
    assert screen.pending.url in str(screen.query_one("#auth-url").render())
    redirect = sandbox.approve(screen.pending.url, sandbox.realm_ids[country])
    field = screen.query_one("#redirect", Input)
    assert field.has_focus
    field.post_message(events.Paste(redirect))  # what the terminal sends on a paste
    await pilot.pause()
    await pilot.press("enter")
    await settle(pilot)
    return screen


def states(app) -> dict[str, str]:
    return {s.id: s.state for s in setup_service.checklist(app.firm)}


async def connect_and_map_by_keyboard(pilot, sandbox, country: str = "AU") -> None:
    """From the checklist: connect by pasting the redirect URL, map all three maps, switch sync on."""
    app = pilot.app
    screen = await connect(pilot, sandbox, country)
    info = qbo.connection(app.firm)
    assert info is not None and info.realm_id == sandbox.realm_ids[country]
    text = str(screen.query_one("#connection").render())
    assert info.company_name in text and "local" in text
    assert "Reference data pulled" in str(screen.query_one("#progress").render())
    assert "Permissions:" in str(screen.query_one("#progress").render())
    header = screen.query_one("FirmHeader").render().plain
    assert info.company_name in header and "local sandbox" in header and "token ok" in header
    assert states(app)["qbo_connected"] == "done"

    # Mapping: F3 opens the mapper, 2 its sales tab; the split pane, first one pair by hand.
    await pilot.press("escape", "f3")
    await settle(pilot)
    mapper = app.screen
    assert isinstance(mapper, MapperScreen)
    await pilot.press("2")
    await pilot.pause()
    assert mapper.tab == "sales"
    need = str(mapper.query_one("#need-sales").render())
    assert re.match(r"To do: \d+ accounts not mapped", need) and "Mapping ›" not in need  # not sent to where they are
    left = mapper.query_one("#sales-left", VirtualList)
    right = mapper.query_one("#sales-right", VirtualList)
    assert left.has_focus
    assert len(left.rows) >= 10 and len(right.rows) >= 1
    await pilot.press("slash")
    await pilot.press(*"litigation")
    await pilot.pause()
    assert all("litigation" in left.rows[i].text.lower() or "litigation" in left.rows[i].note.lower()
               for i in left.shown)
    await pilot.press("enter")  # leaves the filter for the left pane
    assert left.has_focus
    await pilot.press("slash", "ctrl+u", "enter")  # clear the filter
    await pilot.pause()
    assert len(left.shown) == len(left.rows)
    await pilot.press("tab")  # to the right pane: down to the first reference not used yet
    assert right.has_focus
    while right.current.struck:
        await pilot.press("down")
    first = right.current
    await pilot.press("shift+tab", "enter")
    await pilot.pause()
    mapped = [r for r in qbo.list_map(app.firm, "sales") if r.status == "mapped"]
    assert len(mapped) == 1 and mapped[0].qbo_id == first.key
    used = next(r for r in right.rows if r.key == first.key)
    assert used.struck  # used references are struck through
    assert used.note.startswith(first.note + ", used by ")  # and still say what they are (Service, ...)
    # a struck reference is refused
    await pilot.press("down", "enter")
    await pilot.pause()
    assert len([r for r in qbo.list_map(app.firm, "sales") if r.status == "mapped"]) == 1

    # Suggestions: accept all.
    await pilot.press("s")
    await pilot.pause()
    assert isinstance(app.screen, SuggestModal)
    await pilot.press("A")
    await settle(pilot)
    assert app.screen is mapper
    # Suggestions leave fee-income or expense-recovery accounts without a Product/Service: still to do, by name.
    assert states(app)["map_sales"] == "missing"
    while states(app)["map_sales"] != "done":
        left.focus()
        await pilot.press("home")
        while not (left.current.text.startswith(" ") and left.current.note.startswith(("fee,", "expense,"))):
            await pilot.press("down")
        await pilot.press("tab", "home")
        while right.current.struck:
            await pilot.press("down")
        await pilot.press("shift+tab", "enter")
        await settle(pilot)
    assert str(mapper.query_one("#need-sales").render()).startswith("Done: Every fee-income")

    # GL map (3): `a` adds a row: the operating bank account, then a QBO bank account.
    await pilot.press("3")
    await pilot.pause()
    assert mapper.tab == "gl" and mapper.query_one("#gl-rows", DataTable).has_focus
    while states(app)["map_gl"] != "done":
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, PickerModal)
        picker = app.screen
        needed = next((r for r in picker.rows if "(needed)" in r.note), None)
        assert needed, (picker.rows, setup_service.checklist(app.firm)[11])
        await pilot.press(*needed.text.split()[0])  # filter by the account code
        await pilot.press("enter")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, PickerModal)
        assert not picker.query_one("VirtualList").current.struck  # usable references come first
        await pilot.press("enter")
        await settle(pilot)
    assert app.screen is mapper
    await pilot.press("s")  # the other GL rows (bad debts for write-offs...) by suggestion
    await pilot.pause()
    if isinstance(app.screen, SuggestModal):
        await pilot.press("A")
        await settle(pilot)

    # Tax map (] from the GL tab): suggestions, then each rate left with its own code by Enter on its row.
    await pilot.press("right_square_bracket")
    await pilot.pause()
    assert mapper.tab == "tax"
    await pilot.press("s")
    await pilot.pause()
    if isinstance(app.screen, SuggestModal):
        await pilot.press("A")
        await settle(pilot)
    table = mapper.query_one("#tax-rows", DataTable)
    assert table.has_focus
    for index in range(table.row_count):
        ledger_id = table.coordinate_to_cell_key((index, 0)).row_key.value
        row = next(r for r in qbo.list_map(app.firm, "tax") if str(r.ledger_id) == ledger_id)
        if row.status != "mapped":
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, PickerModal), app.screen
            await pilot.press("enter")
            await settle(pilot)
        await pilot.press("down")
    assert states(app)["map_tax"] == "done", [r.message for r in qbo.list_map(app.firm, "tax")]
    assert "Done" in str(mapper.query_one("#need-tax").render())

    # Synchronisation switch (1), flipped with Enter; its label says so in words.
    await pilot.press("1")
    await pilot.pause()
    assert mapper.query_one("#sync-switch").has_focus
    await pilot.press("enter")
    await pilot.pause()
    assert qbo.sync_settings(app.firm).sales_invoices
    assert "Sales invoices: On" in str(mapper.query_one(".switch-row Label").render())
    told = len(app._notifications)
    await pilot.press("ctrl+s")  # nothing new to save: no second toast saying the same
    await pilot.pause()
    assert len(app._notifications) == told
    assert all(state != "missing" for state in states(app).values()), states(app)
    await pilot.press("f2")
    await pilot.pause()
    assert "14 of 14" in str(app.screen.query_one("#checklist-progress-text").render())
    assert mapper.query_one(TabbedContent).active == "sync"


async def test_enter_accepts_the_highlighted_suggestion_only(sb_settings, sandbox):
    # Enter went to the suggestions table (which selects a row and nothing more): nothing was accepted.
    from core.services.context import open_firm

    firm = open_firm(sb_settings)
    try:
        pending = qbo.begin_connect(firm)
        await qbo.complete_connect_async(firm, sandbox.approve(pending.url, sandbox.realm_ids["AU"]))
        await qbo.pull_reference_async(firm)
    finally:
        firm.close()
    app = create_app(sb_settings, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f3", "2", "s")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, SuggestModal) and len(modal.suggestions) > 1
        assert "⏎ Accept" in screen_text(app)  # in the footer
        second = modal.suggestions[1]
        await pilot.press("down", "enter")
        await settle(pilot)
        assert app.screen is modal and "(1 accepted)" in str(modal.query_one("#suggest-title").render())
        mapped = [r for r in qbo.list_map(app.firm, "sales") if r.status == "mapped"]
        assert [r.ledger_name for r in mapped] == [second.ledger_name]


@pytest.fixture
def connected_settings(connected_copy):
    return connected_copy("tui-AU", connected_and_mapped, for_sandbox)[0]


async def test_the_ledger_pane_marks_mapped_accounts_where_80_columns_cut_the_mapping_off(connected_settings):
    s = connected_settings
    from core.services.context import open_firm

    firm = open_firm(s)
    try:  # one account near the top left unmapped, so both marks are on screen
        qbo.unset_mapping(firm, "sales", [r for r in qbo.list_map(firm, "sales") if r.status == "mapped"][1].ledger_id)
    finally:
        firm.close()
    app = create_app(s, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f3", "2")
        await settle(pilot)
        rows = qbo.list_map(app.firm, "sales")
        mapped = next(r for r in rows if r.status == "mapped")
        unmapped = next(r for r in rows if r.status == "unmapped")
        lines = screen_text(app).splitlines()
        assert any(f"│ ✓ {mapped.ledger_key} {mapped.ledger_name[:10]}" in line for line in lines)
        assert any(f"│   {unmapped.ledger_key} {unmapped.ledger_name[:10]}" in line for line in lines)
        assert "Ledger income accounts (✓ mapped)" in screen_text(app)
        # The GL and tax tabs map by Enter too, and their footer says so (the table's own Enter hid it).
        for tab in ("3", "4"):
            await pilot.press(tab)
            await pilot.pause()
            assert screen_text(app).splitlines()[-1].startswith(" ⏎ Map  del Unmap")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PickerModal)
