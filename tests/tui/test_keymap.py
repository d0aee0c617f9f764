"""The user's keymap (ui.keymap): remapped keys drive their actions and show in the footer and on the help
screen; an unknown id or a key that cannot be pressed is named in a notification, never a crash."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from core.errors import ConfigError
from core.settings import Settings
from tui.app import create_app
from tui.keymap import binding_ids, check_keymap, import_all_screens, key_problem
from tui.modals.help import HelpScreen
from tui.screens.checklist import ChecklistScreen
from tui.screens.mapper import MapperScreen
from tui_helpers import screen_text, settle

ROOT = Path(__file__).resolve().parents[2]


def with_keymap(settings: Settings, keymap: dict[str, str]) -> Settings:
    return settings.model_copy(update={"ui": settings.ui.model_copy(update={"keymap": keymap})})


def notes(app) -> list[str]:
    return [n.message for n in app._notifications]


async def test_remapped_keys_drive_their_actions(settings):
    app = create_app(with_keymap(settings, {"app.help": "f10", "app.mapping": "ctrl+t"}), still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ChecklistScreen)
        await pilot.press("f1")  # the old key is free
        await pilot.pause()
        assert isinstance(app.screen, ChecklistScreen)
        await pilot.press("f10")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert isinstance(app.screen, MapperScreen)
        assert not notes(app)


async def test_footer_and_help_show_the_remapped_keys(settings):
    app = create_app(with_keymap(settings, {"app.help": "f10", "checklist.next": "ctrl+n"}), still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        footer = screen_text(app).splitlines()[-1]
        assert "f10 Help" in footer and "^n Next to do" in footer
        assert "f1 Help" not in footer and " n Next to do" not in footer
        await pilot.press("f10")
        await pilot.pause()
        rows = {row.description: row.key for row in app.screen.rows}
        assert rows["Help"] == "f10"
        assert rows["Next to do"] == "^n"
        text = screen_text(app)
        assert "f10" in text and "^n" in text


async def test_bad_entries_are_named_and_the_good_ones_still_apply(settings):
    keymap = {"app.hepl": "f10", "monitor.retry": "ctrl+", "checklist.next": "Ctrl+J", "app.quit": "ctrl+w"}
    app = create_app(with_keymap(settings, keymap), still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ChecklistScreen)
        [note] = notes(app)
        assert 'no key binding has the id "app.hepl"; did you mean "app.help"?' in note
        assert '"monitor.retry" = "ctrl+": "ctrl+" is not a key' in note
        assert '"Ctrl+J" is not a key (did you mean "ctrl+j"?)' in note
        assert "app.quit" not in note
        await pilot.press("f1")  # a bad entry leaves its binding as it was
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("ctrl+w")
        await pilot.pause()
    assert not app.is_running


async def test_a_key_given_twice_is_said(settings):
    keymap = {"app.help": "q", "app.mapping": "n"}
    app = create_app(with_keymap(settings, keymap), still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        [note] = notes(app)
        assert 'q is both "Help" (app.help) and "Quit" (app.quit) in LedgerlinkApp' in note
        assert ('n is "Mapping" (app.mapping) everywhere but "Next to do" (checklist.next) in ChecklistScreen, '
                "which wins there") in note
        await pilot.press("q")  # the keymap's binding wins in the app itself
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert app.is_running


@pytest.mark.parametrize(("key", "ok"), [
    ("f10", True), ("ctrl+shift+r", True), ("question_mark", True), ("slash", True), ("R", True), ("?", True),
    ("escape", True), ("pagedown", True), ("", False), ("ctrl+", False), ("f1O", False), ("hyper-x", False),
    ("Escape", False), ("cmd+s", False),
])
def test_key_names(key, ok):
    assert (key_problem(key) is None) is ok


def test_every_app_binding_id_is_known():
    import_all_screens()
    known = binding_ids()
    for binding_id in ("app.help", "app.quit", "app.mapping", "checklist.next", "mapper.map", "monitor.retry"):
        assert binding_id in known
    check = check_keymap({"mapper.map": " m , ctrl+m "}, known)
    assert check.keymap == {"mapper.map": "m,ctrl+m"} and not check.problems


def test_keymap_from_the_environment_as_json(monkeypatch):
    monkeypatch.setenv("LEDGERLINK_UI__KEYMAP", '{"app.help": "f10", "monitor.retry": ["ctrl+r", "f5"]}')
    assert Settings(_env_file=None).ui.keymap == {"app.help": "f10", "monitor.retry": "ctrl+r,f5"}
    monkeypatch.setenv("LEDGERLINK_UI__KEYMAP", '{"app.help": "f10"')
    with pytest.raises(ConfigError, match="LEDGERLINK_UI__KEYMAP .*the keymap is not valid JSON"):
        Settings(_env_file=None)
    monkeypatch.setenv("LEDGERLINK_UI__KEYMAP", '{"app.help": 10}')
    with pytest.raises(ConfigError, match='keymap entry "app.help": keys must be text'):
        Settings(_env_file=None)


def test_keymap_from_config_toml(tmp_path, monkeypatch):
    """Dotted ids work quoted or not (TOML reads `app.help` as a table `app` with a key `help`)."""
    config = tmp_path / "config"
    config.mkdir(exist_ok=True)
    (config / "config.toml").write_text('[ui.keymap]\napp.help = "f10"\n"mapper.map" = "m"\n')
    monkeypatch.setenv("LEDGERLINK_CONFIG_DIR", str(config))
    assert Settings(_env_file=None).ui.keymap == {"app.help": "f10", "mapper.map": "m"}


def ledgerlink(tmp_path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "tui.cli", "--db", str(tmp_path / "firm.db"), *args],
                          capture_output=True, text=True, cwd=ROOT, env=full_env)


def rows(out: str) -> dict[str, list[str]]:
    """`ledgerlink keys` output: id -> [keys, does, where] (columns are two or more spaces apart, each group of
    rows under a `WHERE:` line)."""
    table, where = {}, None
    for line in out.splitlines():
        if not line.startswith(" "):
            where = line.rstrip(":")
            continue
        cells = re.split(r" {2,}", line.strip())
        table[cells[0]] = cells[1:] + ([where] if where else [])
    return table


def test_keys_command_lists_ids_and_checks_the_keymap(tmp_path):
    listed = ledgerlink(tmp_path, "keys")
    assert listed.returncode == 0, listed.stderr
    table = rows(listed.stdout)
    assert table["ID"] == ["KEYS", "DOES"]
    assert max(len(line) for line in listed.stdout.splitlines()) <= 80
    assert table["app.help"] == ["f1,question_mark", "Help", "everywhere"]
    assert table["monitor.retry"] == ["r", "Retry", "SyncMonitorScreen"]

    keymap = '{"app.help": "f10", "monitr.retry": "ctrl+r", "mapper.map": "enter,,m"}'
    checked = ledgerlink(tmp_path, "keys", env={"LEDGERLINK_UI__KEYMAP": keymap})
    assert checked.returncode == 1
    assert rows(checked.stdout)["app.help"][0] == "f10 (default f1,question_mark)"
    assert 'no key binding has the id "monitr.retry"; did you mean "monitor.retry"?' in checked.stderr
    assert '"mapper.map" = "enter,,m": an empty key' in checked.stderr


def test_the_readme_example_is_a_clean_keymap(tmp_path):
    readme = (ROOT / "README.md").read_text()
    example = readme.split("### Key map", 1)[1].split("```toml", 1)[1].split("```", 1)[0]
    config = tmp_path / "config"
    config.mkdir(exist_ok=True)
    (config / "config.toml").write_text(example)
    checked = ledgerlink(tmp_path, "keys", env={"LEDGERLINK_CONFIG_DIR": str(config)})
    assert checked.returncode == 0, checked.stderr
    assert rows(checked.stdout)["monitor.retry"][0] == "ctrl+r (default r)"
