"""The Accounts screen (F8) on a database without a firm says so, and every key on it answers in words (no
traceback, no crash)."""

from __future__ import annotations

from tui.app import create_app
from tui.screens.accounts import NO_FIRM, ChartScreen
from tui_helpers import settle


async def test_without_a_firm_the_screen_says_so_and_every_key_answers(settings):
    app = create_app(settings, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f8")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ChartScreen)
        for key in ("r", "d", "x", "c", "m", "2", "r", "d", "x", "m"):
            await pilot.press(key)
            await settle(pilot)
        assert app.screen is screen
        assert str(screen.query_one("#chart-detail").render()) == NO_FIRM
        await pilot.press("a", *"4990", "tab", *"Fees", "ctrl+s")
        await settle(pilot)
        error = str(app.screen.query_one("#form-error").render())
        assert "There is no firm in this database yet" in error
