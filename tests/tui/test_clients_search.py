"""Clients and matters in the TUI, and `/` search in every billing list (issue 16, item 12)."""

from __future__ import annotations

from textual.widgets import DataTable

from core.services import ledger
from tui.app import create_app
from tui.modals.form import FormModal
from tui_helpers import ready_firm, retype, screen_text, settle


async def test_a_new_client_with_a_matter_edited_closed_and_found(settings):
    ready_firm(settings)
    app = create_app(settings, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        firm = app.firm
        await pilot.press("f5", "4", "k")
        await pilot.pause()
        assert isinstance(app.screen, FormModal)
        await retype(pilot, "field-name", "Hartley Holdings")
        await retype(pilot, "field-email", "accounts@hartley.example")
        await retype(pilot, "field-phone", "+61 2 5550 1234")
        await retype(pilot, "field-matter", "Acquisition of Quinn")
        await pilot.press("ctrl+s")
        await pilot.pause()
        client = next(c for c in ledger.list_clients(firm) if c.name == "Hartley Holdings")
        assert client.email == "accounts@hartley.example" and client.phone == "+61 2 5550 1234"
        matter = ledger.list_matters(firm, client.id)[0]
        assert matter.name == "Acquisition of Quinn" and matter.open
        ledger.add_client(firm, "Quinn Pty")
        billing = app.screen
        billing.refresh_lists()

        # e on the Clients tab edits the details; a bad e-mail is refused in place, naming the field.
        table = billing.query_one("#client-table", DataTable)
        table.move_cursor(row=[c.id for c in billing.clients].index(client.id))
        await pilot.press("e")
        await pilot.pause()
        await retype(pilot, "field-email", "not an address")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, FormModal)
        assert "e-mail: 'not an address' is not an e-mail address" in str(app.screen.query_one("#form-error").render())
        await retype(pilot, "field-email", "ar@hartley.example")
        await retype(pilot, "field-address", "1 George St, Sydney")
        await pilot.press("ctrl+s")
        await pilot.pause()
        client = ledger.get_client(firm, client.id)
        assert client.email == "ar@hartley.example" and client.address == "1 George St, Sydney"

        # m opens a second matter for the highlighted client; on the Matters tab o closes one, e renames it.
        await pilot.press("m")
        await pilot.pause()
        await retype(pilot, "field-name", "Lease review")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert [m.name for m in ledger.list_matters(firm, client.id)] == ["Acquisition of Quinn", "Lease review"]
        await pilot.press("5")
        await pilot.pause()
        await pilot.press("o")
        await pilot.pause()
        assert not ledger.list_matters(firm, client.id)[0].open
        assert "closed" in screen_text(app)
        await pilot.press("o")
        await pilot.pause()
        assert ledger.list_matters(firm, client.id)[0].open

        # / searches the list shown: by a matter's reference, then a client's name.
        await pilot.press("slash", *matter.reference)
        await pilot.pause()
        assert [m.id for m in billing.matters] == [matter.id]
        await pilot.press("enter", "4")
        await pilot.pause()
        assert billing.clients == []  # no client holds the reference's digits... (search is per list)
        await pilot.press("slash", "ctrl+u", *"quinn")
        await pilot.pause()
        assert [c.name for c in billing.clients] == ["Quinn Pty"]
        await pilot.press("escape")
        await pilot.pause()
        assert len(billing.clients) == 2 and not billing.query_one("#billing-search").display
