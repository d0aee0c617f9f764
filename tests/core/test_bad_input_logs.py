"""The log file holds client names: it is created 0600, an older 0644 one is closed up, and rotation keeps 0600."""

from __future__ import annotations

import logging
import os
import stat

import pytest

from core.cli import main
from core.logs import PrivateRotatingFileHandler


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def no_root_handlers():
    root = logging.getLogger()
    saved = list(root.handlers)
    for h in saved:
        root.removeHandler(h)
    yield
    for h in list(root.handlers):
        if h not in saved:
            root.removeHandler(h)
            h.close()
    for h in saved:
        root.addHandler(h)


def test_the_command_line_creates_its_log_0600(tmp_path, monkeypatch, capsys, no_root_handlers, umask_022):
    monkeypatch.setenv("LEDGERLINK_USER", "alice")
    monkeypatch.setenv("LEDGERLINK_LOG_FILE", str(tmp_path / "logs" / "ledgerlink.log"))
    log_file = tmp_path / "logs" / "ledgerlink.log"
    assert main(["--db", str(tmp_path / "f.db"), "init", "--country", "US", "--name", "Acme Client LLP"]) == 0
    logging.getLogger("core.test").warning("client Acme Widgets Inc. imported")
    assert log_file.exists() and mode(log_file) == 0o600


@pytest.fixture
def umask_022():
    old = os.umask(0o022)  # a usual umask: plain open() would make 0644 files
    yield
    os.umask(old)


def test_an_old_world_readable_log_is_closed_up_and_rotation_stays_0600(tmp_path, umask_022):
    path = tmp_path / "ledgerlink.log"
    path.write_text("older lines\n")
    path.chmod(0o644)
    handler = PrivateRotatingFileHandler(path, maxBytes=200, backupCount=2, encoding="utf-8")
    log = logging.getLogger("test.rotation")
    log.addHandler(handler)
    log.propagate = False
    try:
        for n in range(40):
            log.warning("client number %d, Acme Widgets Inc.", n)
    finally:
        log.removeHandler(handler)
        handler.close()
    files = sorted(tmp_path.glob("ledgerlink.log*"))
    assert len(files) == 3  # the log and two rotated copies
    assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
