"""The shell: help lists every binding, the command palette opens every screen and runs screen actions,
NO_COLOR keeps states readable, and no token or secret ever reaches the screen or the log."""

from __future__ import annotations

import logging

import pytest
from textual.command import CommandPalette

from core.qbo import store
from core.services import qbo
from tui.app import NAVIGATION, create_app
from tui.modals.help import HelpScreen
from tui.screens.checklist import ChecklistScreen
from tui.screens.connect import ConnectScreen
from tui.screens.mapper import MapperScreen
from tui_helpers import for_sandbox, ready_firm, screen_text, settle, tab_to


async def test_help_lists_screen_and_global_bindings(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        actions = {(row.description, row.where) for row in app.screen.rows}
        assert ("Next to do", "this screen") in actions
        for _, title, _, _ in NAVIGATION:
            assert (title, "everywhere") in actions
        assert ("Help", "everywhere") in actions and ("Quit", "everywhere") in actions
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ChecklistScreen)


async def test_palette_opens_screens_and_runs_actions(settings):
    ready_firm(settings)
    app = create_app(settings, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"open mapping")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, MapperScreen)
        # a screen's own action, found by its description
        await pilot.press("f2", "ctrl+p")
        await pilot.pause()
        await pilot.press(*"next to do")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ChecklistScreen)
        assert screen.steps[screen.query_one("StepList").highlighted].state == "missing"


async def test_no_color_keeps_states_in_words(settings, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = create_app(settings, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.no_color
        text = screen_text(app)
        assert "[todo]" in text and "0 of 14 steps done" in text and "local sandbox" in text


@pytest.fixture(params=[True, False], ids=["NO_COLOR", "colour"])
def no_color(request, monkeypatch) -> bool:
    """Each test runs with NO_COLOR set and without it."""
    if request.param:
        monkeypatch.setenv("NO_COLOR", "1")
    else:
        monkeypatch.delenv("NO_COLOR", raising=False)
    return request.param


async def test_no_color_underlines_the_highlighted_row_not_only_shades_it(settings, no_color):
    # Greys alone told the checklist's (or a table's) highlighted row from the others under NO_COLOR.
    app = create_app(settings, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        steps = app.screen.query_one("StepList")
        assert steps.has_focus
        assert underlined(steps, 0) is no_color  # the first step, highlighted
        assert not underlined(steps, steps.scrollable_content_region.height - 1)  # a later one
        steps.blur()
        await pilot.pause()
        assert underlined(steps, 0) is no_color


async def test_no_color_draws_the_focused_fields_border_heavy(settings, no_color):
    # A focused field's border was only a lighter grey, the same shape as the others.
    app = create_app(settings, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")  # the first step: the firm's name and template
        await settle(pilot)
        await tab_to(pilot, "firm-name")
        await pilot.pause()
        name = app.screen.query_one("#firm-name")
        assert (name.styles.border_top[0] == "heavy") is no_color
        await tab_to(pilot, "builtin")
        await pilot.pause()
        assert name.styles.border_top[0] != "heavy"
        assert (app.screen.query_one("#builtin").styles.border_top[0] == "heavy") is no_color


def underlined(option_list, y: int) -> bool:
    """Whether row `y` of the list is drawn underlined, every cell of it (as the terminal gets it)."""
    return all(bool(segment.style and segment.style.underline) for segment in option_list.render_line(y))


@pytest.fixture
def own_log_handler():
    """core.logs installs one handler per process: give this test its own, then put the old ones back."""
    root = logging.getLogger()
    saved, level = list(root.handlers), root.level
    for handler in saved:
        if getattr(handler, "_ledgerlink", False):
            root.removeHandler(handler)
    yield
    for handler in list(root.handlers):
        if handler not in saved:
            root.removeHandler(handler)
            handler.close()
    for handler in saved:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)


async def test_no_secret_on_screen_or_in_the_log(settings, sandbox, own_log_handler):
    from core.logs import setup_logging

    s = for_sandbox(settings, sandbox)
    setup_logging(s.log_file)
    ready_firm(s, "AU")
    app = create_app(s, still=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.open_step("qbo_connected")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ConnectScreen)
        await pilot.press("c")
        await settle(pilot)
        screen.query_one("#redirect").insert_text_at_cursor(
            sandbox.approve(screen.pending.url, sandbox.realm_ids["AU"]))
        await pilot.press("enter")
        await settle(pilot)
        assert qbo.connection(app.firm) is not None
        conn = store.load_connection(app.firm.db)
        shots = [app.export_screenshot(), screen_text(app)]
        for key in ("f3", "f4", "f5", "f6", "f1"):
            await pilot.press(key)
            await settle(pilot)
            shots += [app.export_screenshot(), screen_text(app)]
    secrets = [conn.access_token, conn.refresh_token, sandbox.client_secret]
    log = s.log_file.read_text()
    assert "connect" in log.lower()  # the log was written to, and holds no secret
    for secret in secrets:
        assert len(secret) > 8
        assert all(secret not in shot for shot in shots)
        assert secret not in log
