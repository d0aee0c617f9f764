"""Pilot helpers: every test builds the app with the same factory as the CLI (create_app)."""

from __future__ import annotations

import pytest

from tui.app import create_app


@pytest.fixture
def make_app(settings):
    """create_app for the test's own settings and database, clocks and cursors stilled."""
    apps = []

    def make(**kwargs):
        app = create_app(settings, still=True, **kwargs)
        apps.append(app)
        return app

    yield make


@pytest.fixture(autouse=True)
def _paint_only_when_looked_at(request, monkeypatch):
    """A headless test app throws every painted frame away, and painting is most of a Pilot test's CPU: frames
    are painted only when a test looks (a screenshot, a snapshot, screen_text). Layout, focus, bindings and
    widget state run as in the terminal. `@pytest.mark.every_frame` paints every frame, as the terminal does,
    and LEDGERLINK_TEST_EVERY_FRAME=1 does so for the whole run."""
    import os

    from textual._compositor import Compositor

    if request.node.get_closest_marker("every_frame") or os.environ.get("LEDGERLINK_TEST_EVERY_FRAME") == "1":
        return
    painted = Compositor.render_update

    def render_update(self, full=False, screen_stack=None, simplify=False):
        if full:  # export_screenshot asks for the whole screen
            return painted(self, full, screen_stack, simplify)
        self._dirty_regions.clear()
        return None

    monkeypatch.setattr(Compositor, "render_update", render_update)


@pytest.fixture(autouse=True)
def _shorter_idle_ticks(monkeypatch):
    """After every key Pilot sleeps in 20 ms ticks until one passes with the process idle (under 5% CPU): about
    a third of a keyboard walk's wall time. 10 ms ticks with the same 5% rule wait for the same quiet."""
    from textual import _wait

    monkeypatch.setattr(_wait, "SLEEP_GRANULARITY", 1 / 100)
    monkeypatch.setattr(_wait, "SLEEP_IDLE", 1 / 100 / 20)
