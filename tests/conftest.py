"""Shared fixtures: every test gets its own settings, database path and config dir."""

from __future__ import annotations

import pytest

from core.settings import Settings


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path, monkeypatch):
    """No test reads the developer's config, .env or LEDGERLINK_* environment."""
    import os

    for key in list(os.environ):
        if key.startswith("LEDGERLINK_"):
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("LEDGERLINK_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(_env_file=None, db=tmp_path / "firm.db", log_file=tmp_path / "ledgerlink.log")


@pytest.fixture
def sandbox(tmp_path):
    """A local QBO sandbox served over real HTTP on 127.0.0.1 (see core.sandbox.testing)."""
    from core.sandbox.testing import running_sandbox

    with running_sandbox(tmp_path / "sandbox.db") as sb:
        yield sb
