"""Connecting to the local sandbox by pasting the redirect URL, then mapping all three maps and turning
sync on, keyboard only, until the checklist is complete."""

from __future__ import annotations

import pytest
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
from tui_helpers import for_sandbox, ready_firm, settle


@pytest.fixture
def sb_settings(settings, sandbox):
    s = for_sandbox(settings, sandbox)
    ready_firm(s)
    return s


async def connect(pilot, sandbox, country: str = "AU") -> ConnectScreen:
    app = pilot.app
    app.open_step("qbo_connected")
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, ConnectScreen)
    await pilot.press("c")
    await settle(pilot)
    assert screen.pending is not None
    assert screen.pending.url in str(screen.query_one("#auth-url").render())
    redirect = sandbox.approve(screen.pending.url, sandbox.realm_ids[country])
    field = screen.query_one("#redirect", Input)
    assert field.has_focus
    field.insert_text_at_cursor(redirect)  # what a terminal paste does
    await pilot.press("enter")
    await settle(pilot)
    return screen


def states(app) -> dict[str, str]:
    return {s.id: s.state for s in setup_service.checklist(app.firm)}


async def test_connect_by_paste_then_map_everything(sb_settings, sandbox):
    app = create_app(sb_settings, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ChecklistScreen)
        await connect_and_map_by_keyboard(pilot, sandbox)


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

    # Mapping: F3 opens the mapper; sales map by the split pane, first one pair by hand.
    await pilot.press("escape", "f3")
    await settle(pilot)
    mapper = app.screen
    assert isinstance(mapper, MapperScreen)
    mapper.show_tab("sales")
    await pilot.pause()
    left = mapper.query_one("#sales-left", VirtualList)
    right = mapper.query_one("#sales-right", VirtualList)
    assert len(left.rows) >= 10 and len(right.rows) >= 1
    await pilot.press("slash")
    await pilot.press(*"litigation")
    await pilot.pause()
    assert all("litigation" in left.rows[i].text.lower() or "litigation" in left.rows[i].note.lower()
               for i in left.shown)
    await pilot.press("enter")  # leaves the filter for the left pane
    first = next(r for r in right.rows if not r.struck)
    mapper.query_one("#sales-filter", Input).value = ""
    await pilot.pause()
    right.select_key(first.key)
    left.focus()
    await pilot.press("enter")
    await pilot.pause()
    mapped = [r for r in qbo.list_map(app.firm, "sales") if r.status == "mapped"]
    assert len(mapped) == 1 and mapped[0].qbo_id == first.key
    assert next(r for r in right.rows if r.key == first.key).struck  # used references are struck through
    # a struck reference is refused
    left.cursor += 1
    await pilot.press("enter")
    await pilot.pause()
    assert len([r for r in qbo.list_map(app.firm, "sales") if r.status == "mapped"]) == 1

    # Suggestions: accept all.
    await pilot.press("s")
    await pilot.pause()
    assert isinstance(app.screen, SuggestModal)
    await pilot.press("A")
    await settle(pilot)
    assert app.screen is mapper
    assert states(app)["map_sales"] == "done", setup_service.checklist(app.firm)

    # GL map: `a` adds a row: the operating bank account, then a QBO bank account.
    mapper.show_tab("gl")
    await pilot.pause()
    mapper.query_one("#gl-rows", DataTable).focus()
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

    # Tax map: each rate with its own code, chosen by Enter on the row.
    mapper.show_tab("tax")
    await pilot.pause()
    await pilot.press("s")
    await pilot.pause()
    if isinstance(app.screen, SuggestModal):
        await pilot.press("A")
        await settle(pilot)
    table = mapper.query_one("#tax-rows", DataTable)
    table.focus()
    unmapped = [r for r in qbo.list_map(app.firm, "tax") if r.status != "mapped"]
    for row in unmapped:
        table.move_cursor(row=table.get_row_index(str(row.ledger_id)))
        await pilot.press("enter")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, PickerModal), app.screen
        await pilot.press("enter")
        await settle(pilot)
    assert states(app)["map_tax"] == "done", [r.message for r in qbo.list_map(app.firm, "tax")]
    assert "Done" in str(mapper.query_one("#need-tax").render())

    # Synchronisation switch.
    mapper.show_tab("sync")
    await pilot.pause()
    mapper.query_one("#sync-switch").focus()
    await pilot.press("enter")
    await pilot.pause()
    assert qbo.sync_settings(app.firm).sales_invoices
    assert all(state != "missing" for state in states(app).values()), states(app)
    await pilot.press("f2")
    await pilot.pause()
    assert "14 of 14" in str(app.screen.query_one("#checklist-progress-text").render())
    assert mapper.query_one(TabbedContent).active == "sync"
