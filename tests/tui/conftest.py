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

