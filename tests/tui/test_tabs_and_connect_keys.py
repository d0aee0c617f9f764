"""Keys a keyboard-only user needs beyond the footer: digits and [ ] switch tabs (and the palette lists
them, each screen once), and connecting to the built-in sandbox works over SSH with Enter alone."""

from __future__ import annotations

from textual.widgets import DataTable, Input, TabbedContent

from core.qbo import embedded
from core.services import qbo
from tui.app import create_app
from tui.commands import LedgerlinkCommands
from tui.screens.billing import BillingScreen
from tui.screens.connect import ConnectScreen
from tui.screens.reports import ReportsScreen
from tui_helpers import ready_firm, screen_text, settle


async def test_digits_and_brackets_switch_tabs_and_focus_their_table(settings):
    ready_firm(settings)
    app = create_app(settings, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f6")
        await settle(pilot)
        reports = app.screen
        assert isinstance(reports, ReportsScreen)
        assert "1 Trial balance" in screen_text(app) and "2 AR aging" in screen_text(app)
        await pilot.press("2")
        assert reports.query_one(TabbedContent).active == "aging"
        assert reports.query_one("#aging-table", DataTable).has_focus
        await pilot.press("right_square_bracket")
        assert reports.query_one(TabbedContent).active == "trust"
        await pilot.press("left_square_bracket", "left_square_bracket", "left_square_bracket")
        assert reports.query_one(TabbedContent).active == "reconcile"  # wraps round
        await pilot.press("f5")
        await settle(pilot)
        billing = app.screen
        assert isinstance(billing, BillingScreen)
        await pilot.press("3")
        assert billing.query_one(TabbedContent).active == "credits"
        assert billing.query_one("#credit-table", DataTable).has_focus


async def test_palette_lists_tabs_and_each_screen_once(settings):
    ready_firm(settings)
    app = create_app(settings, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        titles = [entry.title for entry in LedgerlinkCommands(app.screen).entries()]
        assert len(titles) == len(set(titles))
        assert "Open Mapping" in titles and "Mapping" not in titles
        assert {"Synchronisation tab", "GL accounts tab", "Next tab", "Previous tab"} <= set(titles)


async def test_built_in_sandbox_connects_with_enter_and_the_url_can_be_copied(settings):
    ready_firm(settings)  # no Intuit client id: the built-in sandbox
    app = create_app(settings, still=True)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("n", "enter", "c")
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, ConnectScreen) and screen.pending is not None
            assert "Built-in sandbox: Enter on the empty field approves it here." in screen_text(app)
            field = screen.query_one("#redirect", Input)
            assert field.has_focus
            await pilot.press("escape")  # leaves the field, stays on the screen
            assert isinstance(app.screen, ConnectScreen) and not field.has_focus
            await pilot.press("y")
            assert app.clipboard == screen.pending.url
            await pilot.press("tab")
            assert field.has_focus
            await pilot.press("enter")
            await settle(pilot)
            info = qbo.connection(app.firm)
            assert info is not None and info.environment == "local"
            assert info.company_name in screen_text(app)
            assert "Reference data pulled" in str(screen.query_one("#progress").render())
    finally:
        embedded.stop_all()
