"""A wrong client secret at connect is said as such (the token endpoint's invalid_client), never as "the code
is single-use", and the secret is never shown."""

from __future__ import annotations

import dataclasses
import sqlite3

import pytest

from core.cli import main
from core.qbo import connect as connect_mod
from tests.qbo.fakeqbo import FakeQBO, make_firm
from tests.qbo.test_cli import PasteStdin

WRONG = "wrong-secret-do-not-show-91x"


@pytest.fixture
def fake(settings, monkeypatch):
    make_firm(settings).close()
    fake = FakeQBO()
    monkeypatch.setattr(connect_mod, "app_config",
                        lambda settings, transport=None: dataclasses.replace(fake.app(), client_secret=WRONG))
    monkeypatch.setenv("LEDGERLINK_DB", str(settings.db))
    monkeypatch.setenv("LEDGERLINK_QBO__API_BASE", "http://127.0.0.1:9")
    return fake


def test_a_wrong_client_secret_is_named_at_connect(fake, settings, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", PasteStdin(fake, settings.db))
    code = main(["connect", "--no-listen"])
    out, err = capsys.readouterr()
    assert code == 1
    assert "did not accept this app's client id and secret (invalid_client)" in err
    assert "LEDGERLINK_QBO__CLIENT_SECRET" in err
    assert "single-use" not in out + err and WRONG not in out + err and "Traceback" not in out + err
    with sqlite3.connect(settings.db) as conn:
        assert conn.execute("SELECT count(*) FROM qbo_connection").fetchone()[0] == 0
