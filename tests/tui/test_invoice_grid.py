"""The invoice form works as a bookkeeper types (issue 16, item 6): focus starts on the first empty field; the
lines are an editable grid (edit any line, insert, drop, move); each line's tax rate is shown and chosen for it,
never carried over; totals per rate; due date from the terms; the matter; Ctrl+D while a field has focus."""

from __future__ import annotations

from textual.widgets import DataTable, Input, Select

from core.services import ledger
from tui.app import create_app
from tui.modals.invoice import InvoiceModal
from tui_helpers import choose, ready_firm, retype, screen_text, settle


def rates(firm):
    taxed = next(r for r in ledger.list_tax_rates(firm, active_only=True) if r.rate_ppm)
    free = next(r for r in ledger.list_tax_rates(firm, active_only=True) if not r.rate_ppm)
    return taxed, free


async def add_line(pilot, desc: str, price: str, tax: str) -> None:
    await retype(pilot, "description", desc)
    await retype(pilot, "unit_price", price)
    await choose(pilot, "tax", tax)
    await pilot.press("ctrl+l")
    await pilot.pause()


async def test_three_lines_two_rates_edited_in_the_middle_moved_and_dropped(settings):
    ready_firm(settings)
    app = create_app(settings, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        firm = app.firm
        client = ledger.add_client(firm, "Acme Pty")
        matter = ledger.add_matter(firm, client.id, "Merger")
        taxed, free = rates(firm)
        await pilot.press("f5", "n")
        await pilot.pause()
        modal = app.screen
        assert isinstance(modal, InvoiceModal)
        assert app.focused.id == "client"  # the first empty field, not the date with its text selected
        await choose(pilot, "client", "Acme")
        await choose(pilot, "matter", matter.reference)
        assert modal.query_one("#matter", Select).value == matter.id
        await choose(pilot, "terms", "Net 14")
        assert modal.query_one("#due", Input).value == "2026-11-30"

        await add_line(pilot, "Advice", "100", taxed.name)
        # The tax rate is not carried over: the next line asks for its own.
        assert modal.query_one("#tax", Select).value is Select.NULL
        await retype(pilot, "description", "Filing")
        await retype(pilot, "unit_price", "50")
        await pilot.pause()
        assert "line 2: choose its tax rate" in str(modal.query_one("#invoice-problems").render())
        await choose(pilot, "tax", free.name)
        await pilot.press("ctrl+l")
        await pilot.pause()
        await add_line(pilot, "Travel", "20", taxed.name)
        table = modal.query_one("#lines", DataTable)
        assert table.row_count == 3
        assert [table.get_row_at(i)[5] for i in range(3)] == [taxed.name, free.name, taxed.name]
        total = str(modal.query_one("#invoice-total").render())
        assert "Net 170.00 + tax 12.00 = total 182.00" in total
        assert f"{taxed.name}: 12.00 on 120.00; {free.name}: 0.00 on 50.00" in total
        assert "Due 2026-11-30" in total

        # Edit the middle line: Enter on it in the grid fills the fields; Ctrl+L updates it in place.
        table.focus()
        await pilot.press("home", "down", "enter")
        await pilot.pause()
        assert app.focused.id == "description" and app.focused.value == "Filing"
        assert modal.query_one("#tax", Select).value == free.id
        await retype(pilot, "unit_price", "80")
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert [line["unit_price"] for line in modal.lines] == ["100", "80", "20"]
        # Move the last line up, then insert a line above the first.
        table.focus()
        await pilot.press("end", "ctrl+up")
        await pilot.pause()
        assert [line["description"] for line in modal.lines] == ["Advice", "Travel", "Filing"]
        await pilot.press("home", "insert")
        await pilot.pause()
        await add_line(pilot, "Conference", "10", free.name)
        assert [line["description"] for line in modal.lines] == ["Conference", "Advice", "Travel", "Filing"]
        # Ctrl+D while a text field has the focus drops the last line (Input's own Ctrl+D used to take it).
        await tab_to_description(pilot)
        await pilot.press("ctrl+d")
        await pilot.pause()
        assert [line["description"] for line in modal.lines] == ["Conference", "Advice", "Travel"]
        await pilot.press("ctrl+s")
        await pilot.pause()
        invoice = ledger.get_invoice(firm, ledger.list_invoices(firm)[0].id)
        assert invoice.matter_id == matter.id and invoice.due_date == "2026-11-30"
        assert [l.description for l in invoice.lines] == ["Conference", "Advice", "Travel"]
        assert invoice.total_minor == 1000 + 11000 + 2200

        # Editing after saving: focus on the first empty field (the new line), a line changed in the middle.
        await pilot.press("e")
        await pilot.pause()
        modal = app.screen
        assert isinstance(modal, InvoiceModal) and app.focused.id == "description"
        table = modal.query_one("#lines", DataTable)
        assert table.get_row_at(1)[3] == "1" and table.get_row_at(1)[4] == "100.00"
        table.focus()
        await pilot.press("home", "down", "enter")
        await pilot.pause()
        await retype(pilot, "quantity", "2")
        await pilot.press("ctrl+l", "ctrl+s")
        await pilot.pause()
        invoice = ledger.get_invoice(firm, invoice.id)
        assert [l.quantity_milli for l in invoice.lines] == [1000, 2000, 1000]
        assert invoice.total_minor == 1000 + 22000 + 2200
        assert "Acme Pty" in screen_text(app)


async def tab_to_description(pilot) -> None:
    from tui_helpers import tab_to

    await tab_to(pilot, "description")
