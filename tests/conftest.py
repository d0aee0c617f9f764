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


@pytest.fixture(autouse=True, scope="session")
def _parse_each_stylesheet_once():
    """Every app parses the same CSS (its own files and every widget's DEFAULT_CSS) into a cache of its own:
    about a third of an app's start-up. Parsing is a pure function of the text, where it was read from and the
    theme's variables, so the test process keeps one cache for all its apps."""
    from textual.css.stylesheet import Stylesheet

    parse = Stylesheet._parse_rules
    parsed: dict[tuple, list] = {}

    def _parse_rules(self, css, read_from, is_default_rules=False, tie_breaker=0, scope=""):
        key = (css, read_from, is_default_rules, tie_breaker, scope, tuple(sorted(self._variables.items())))
        if key not in parsed:
            parsed[key] = parse(self, css, read_from, is_default_rules, tie_breaker, scope)
        return parsed[key]

    Stylesheet._parse_rules = _parse_rules
    yield
    Stylesheet._parse_rules = parse


@pytest.fixture(autouse=True, scope="session")
def _migrate_new_databases_from_one_template():
    """Every test that makes a firm ran all the migration steps on an empty file. What they make of an empty file
    is always the same, so the test process runs them once, through the real `migrate`, into memory and copies
    the result into each new firm database with SQLite's backup API. Upgrades of existing files and every refusal
    run the real steps."""
    import sqlite3

    from core import migrations

    real = migrations.migrate
    template: list[sqlite3.Connection] = []

    def migrate(conn, path="the firm database"):
        if migrations.inspect(conn).state != "new":
            return real(conn, path)
        if not template:
            template.append(sqlite3.connect(":memory:", check_same_thread=False))
            real(template[0], path)
        if conn.in_transaction:
            conn.commit()
        template[0].backup(conn)
        return 0, migrations.LATEST

    migrations.migrate = migrate
    yield
    migrations.migrate = real


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(_env_file=None, db=tmp_path / "firm.db", log_file=tmp_path / "ledgerlink.log")


@pytest.fixture
def sandbox(tmp_path):
    """A local QBO sandbox served over real HTTP on 127.0.0.1 (see core.sandbox.served)."""
    from core.sandbox.served import running_sandbox

    with running_sandbox(tmp_path / "sandbox.db") as sb:
        yield sb


class _Templates:
    """Connected firms built once per test process (a firm database and its sandbox's database, closed), copied
    into each test that asks: connecting and pulling reference data is the slow part of a connected test."""

    def __init__(self, root) -> None:
        self.root = root
        self.built: dict[str, object] = {}

    def copy_into(self, key: str, build, dest) -> None:
        import shutil
        import sqlite3

        src = self.built.get(key)
        if src is None:
            src = self.root / key
            src.mkdir()
            build(src)
            for name in ("firm.db", "sandbox.db"):
                conn = sqlite3.connect(src / name)
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                conn.close()
            self.built[key] = src
        for name in ("firm.db", "sandbox.db"):
            shutil.copyfile(src / name, dest / name)


@pytest.fixture(scope="session")
def _templates(tmp_path_factory) -> _Templates:
    return _Templates(tmp_path_factory.mktemp("templates"))


@pytest.fixture
def connected_copy(tmp_path, settings, _templates):
    """`connected_copy(key, build, point) -> (settings, sandbox)`: the test's own firm database and running
    sandbox, copied from a template that `await build(point(settings, sb), sb)` made once per test process.
    `point(settings, sb)` aims settings at a sandbox (it is applied again to the test's own sandbox)."""
    import asyncio
    import contextlib

    from core.sandbox.served import running_sandbox

    stack = contextlib.ExitStack()

    def make(key: str, build, point):
        def template(folder):
            with running_sandbox(folder / "sandbox.db") as sb:
                asyncio.run(build(point(settings.model_copy(update={"db": folder / "firm.db"}), sb), sb))

        _templates.copy_into(key, template, tmp_path)
        sb = stack.enter_context(running_sandbox(tmp_path / "sandbox.db"))
        return point(settings.model_copy(update={"db": tmp_path / "firm.db"}), sb), sb

    with stack:
        yield make
