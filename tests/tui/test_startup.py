"""Start-up: `ledgerlink` opens the TUI without core.cli's imports, reads the settings after the first paint,
and says so when they cannot be read; sub-commands, -h and bad options still go through the full parser."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from core.settings import Settings
from tui.app import LedgerlinkApp
from tui.cli import main, tui_database
from tui.screens.checklist import ChecklistScreen
from tui.screens.opening import OpeningScreen
from tui_helpers import screen_text, settle

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("argv", "expected"), [
    ([], (True, None)),
    (["--db", "firm.db"], (True, "firm.db")),
    (["--db=firm.db"], (True, "firm.db")),
    (["status"], (False, None)),
    (["--db", "firm.db", "status"], (False, None)),
    (["-h"], (False, None)),
    (["--db"], (False, None)),
    (["--db", "--help"], (False, None)),
    (["--bogus"], (False, None)),
])
def test_pre_parse_sends_only_plain_opens_to_the_tui(argv, expected):
    assert tui_database(argv) == expected


def test_opening_the_tui_imports_neither_core_cli_nor_the_qbo_client(tmp_path):
    """The console path as installed: `ledgerlink --db X` reaches tui.app.run with a loader for X's settings,
    without importing core.cli, the QBO client or pydantic-settings first."""
    db = tmp_path / "elsewhere.db"
    code = (
        "import sys, tui.app\n"
        "heavy = ('core.cli', 'core.qbo', 'authlib', 'pydantic_settings', 'core.settings')\n"
        "def run(load):\n"
        "    print('before:', sorted(m for m in heavy if m in sys.modules))\n"
        "    print('db:', load().db)\n"
        "    return 0\n"
        "tui.app.run = run\n"
        "from tui.cli import main\n"
        f"sys.exit(main(['--db', {str(db)!r}]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert "before: []" in out
    assert f"db: {db}" in out


def test_help_still_lists_every_sub_command(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["-h"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    for command in ("init", "status", "connect", "map", "sync", "reconcile", "keys", "--db"):
        assert command in out


def test_a_bad_option_gets_argparse_error(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--bogus"])
    assert stop.value.code == 2
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err


def test_a_sub_command_still_runs_headless(tmp_path):
    db = tmp_path / "firm.db"

    def ledgerlink(*args: str) -> str:
        return subprocess.run([sys.executable, "-m", "tui.cli", "--db", str(db), *args], capture_output=True,
                              text=True, check=True, cwd=ROOT).stdout

    ledgerlink("init", "--country", "AU", "--name", "Smith Jones")
    assert "Smith Jones" in ledgerlink("status")


async def test_settings_read_after_the_first_paint(tmp_path):
    """Until the worker has read the settings the header says … for the environment (never a guess);
    then it shows the real one, the theme is applied and the firm opens on the checklist."""
    db = tmp_path / "firm.db"
    release = threading.Event()

    def load():
        assert release.wait(10)
        return Settings(_env_file=None, db=db, log_file=tmp_path / "ledgerlink.log", ui={"theme": "nord"})

    app = LedgerlinkApp(load, still=True)
    assert app.settings is None
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, OpeningScreen)
        assert app.header_info.environment == "…"
        text = screen_text(app)
        assert "Reading the settings…" in text and "sandbox" not in text
        await pilot.press("f3")  # no screen can open before the firm has
        await pilot.pause()
        assert isinstance(app.screen, OpeningScreen)
        assert "Still opening the firm database…" in [n.message for n in app._notifications]
        release.set()
        await settle(pilot)
        assert isinstance(app.screen, ChecklistScreen)
        assert app.settings.db == db
        assert app.theme == "nord"
        assert "local sandbox" in screen_text(app)


async def test_unreadable_settings_are_said_on_screen_and_q_quits(tmp_path):
    def load():
        return Settings(_env_file=None, db=tmp_path / "firm.db", sync={"batch_size": "thirty"})

    app = LedgerlinkApp(load, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, OpeningScreen)
        text = screen_text(app)
        assert "could not read its settings" in text and "batch_size" in text
        await pilot.press("q")
        await pilot.pause()
    assert not app.is_running
