"""Setup › Sales tax enters a combined rate's components at 80x24: a component without a liability account is refused
in the form, by name; with one, the rate is saved with its components and the table shows them."""

from __future__ import annotations

from textual.widgets import DataTable, Select

from core.services import accounts, ledger
from core.services.context import open_firm
from tui.app import create_app
from tui.modals.form import FormModal
from tui.screens.setup_tax import SalesTaxScreen
from tui_helpers import ready_firm, settle, tab_to


async def choose(pilot, field_id: str, position: int) -> None:
    """Tab to a Select, open it with Enter, Down `position` times from the blank first option, Enter."""
    await tab_to(pilot, field_id)
    assert isinstance(pilot.app.focused, Select)
    await pilot.press("enter")
    await pilot.pause()
    await pilot.press(*["down"] * position, "enter")
    await pilot.pause()


async def test_a_combined_rate_is_entered_with_its_components(settings):
    ready_firm(settings)
    firm = open_firm(settings)
    try:
        levy = accounts.add_account(firm, code="2215", name="Levy payable", type="Other Current Liability",
                                    subtype="sales_tax")
        payable = [a.id for a in ledger.list_accounts(firm, subtypes=["sales_tax"], active_only=True)]
        gst = next(a for a in ledger.list_accounts(firm, subtypes=["sales_tax"]) if a.id != levy.id)
    finally:
        firm.close()
    app = create_app(settings, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press(*["down"] * 6, "enter")
        await settle(pilot)
        assert isinstance(app.screen, SalesTaxScreen)
        await pilot.press("a")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, FormModal)
        await pilot.press(*"GST + Levy (12%)", "tab", *"12")
        await tab_to(pilot, "field-c1_name")
        await pilot.press(*"GST", "tab", *"10")
        await choose(pilot, "field-c1_account", 1 + payable.index(gst.id))
        await tab_to(pilot, "field-c2_name")
        await pilot.press(*"Levy", "tab", *"2", "ctrl+s")
        await pilot.pause()
        assert app.screen is form  # refused, the form stays with what was typed
        error = str(form.query_one("#form-error").render())
        assert "component 2 (Levy) has no liability account" in error
        assert "12%" not in [r.rate_percent for r in ledger.list_tax_rates(app.firm)]

        await choose(pilot, "field-c2_account", 1 + payable.index(levy.id))
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, SalesTaxScreen)
        rate = accounts.find_tax_rate(app.firm, "GST + Levy (12%)")
        assert [(c.name, c.rate_percent, c.tax_account_id) for c in rate.components] == [
            ("GST", "10", gst.id), ("Levy", "2", levy.id)]
        table = app.screen.query_one("#rates", DataTable)
        assert [str(c) for c in table.get_row_at(table.row_count - 1)][:3] == [
            "GST + Levy (12%)", "12%", "GST 10% + Levy 2%"]
