"""`ledgerlink connect / pull / map / disconnect` in-process, against the in-memory Intuit."""

import asyncio
import re
import socket
import sqlite3

import httpx
import pytest

from core.cli import main
from core.qbo import connect as connect_mod
from core.qbo.connect import wait_for_callback
from tests.qbo.fakeqbo import FakeQBO, make_firm


@pytest.fixture
def fake(settings, monkeypatch):
    make_firm(settings).close()
    fake = FakeQBO()
    monkeypatch.setattr(connect_mod, "app_config", lambda settings, transport=None: fake.app())
    monkeypatch.setenv("LEDGERLINK_DB", str(settings.db))
    return fake


def run(args, capsys):
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def latest_url(db_path) -> str:
    with sqlite3.connect(db_path) as conn:
        return conn.execute("SELECT url FROM qbo_pending_connect ORDER BY created_at DESC LIMIT 1").fetchone()[0]


class PasteStdin:
    """What an admin does on SSH: copy the URL to a browser, approve, paste the redirect URL back."""

    def __init__(self, fake, db_path):
        self.fake, self.db_path = fake, db_path

    def readline(self):
        return self.fake.approve(latest_url(self.db_path)) + "\n"


def test_connect_by_paste_then_pull_map_and_disconnect(fake, settings, capsys, monkeypatch, tmp_path):
    monkeypatch.setattr("sys.stdin", PasteStdin(fake, settings.db))
    code, out, err = run(["connect", "--no-listen"], capsys)
    assert code == 0, err
    assert "/connect/oauth2?" in out
    assert "Connected to Fake Law Co (realm 9130357, sandbox)." in out
    assert "can read everything" in out
    assert re.search(r"Reference data of Fake Law Co: \d+ accounts, \d+ products/services, \d+ tax codes, \d+ tax rates?, \d+ customers?\.", out)

    code, out, _ = run(["map", "suggest", "--apply"], capsys)
    assert code == 0 and "Applied" in out
    code, out, _ = run(["map", "show", "gl"], capsys)
    assert "Operating Checking" in out and "Checking [35]" in out
    code, out, err = run(["map", "set", "sales", "4000", "Fees"], capsys)
    assert code == 1 and "cannot be used on invoice lines" in err
    code, out, _ = run(["map", "unset", "sales", "4000"], capsys)
    assert "removed" in out
    code, out, _ = run(["map", "set", "sales", "4000", "legal fees - litigation"], capsys)
    assert code == 0 and "Legal Fees - Litigation → Legal Fees - Litigation" in out

    path = tmp_path / "m.csv"
    code, out, _ = run(["map", "export", str(path)], capsys)
    assert code == 0 and path.exists()
    path.write_text(path.read_text() + "sales,4000,x,3,Fees\n")
    code, out, err = run(["map", "import", str(path)], capsys)
    assert code == 1 and "Category" in err

    fake.ref["Item"][0]["Name"] = "Litigation"
    code, out, _ = run(["pull"], capsys)
    assert "Renamed: Item Litigation (was Legal Fees - Litigation)" in out

    code, out, _ = run(["disconnect", "--purge"], capsys)
    assert code == 0 and "Disconnected from QuickBooks company Fake Law Co" in out


def test_connect_url_only_then_complete(fake, settings, capsys):
    code, out, _ = run(["connect", "--url-only"], capsys)
    assert code == 0 and "--complete" in out
    url = latest_url(settings.db)
    code, out, err = run(["connect", "--complete", fake.approve(url), "--no-pull"], capsys)
    assert code == 0, err
    assert "Connected to Fake Law Co" in out and "Reference data" not in out


def test_declined_consent_is_a_clear_error(fake, settings, capsys, monkeypatch):
    class Declined:
        def readline(self):
            state = latest_url(settings.db).split("state=")[1].split("&")[0]
            return f"http://127.0.0.1:8765/callback?error=access_denied&state={state}\n"

    monkeypatch.setattr("sys.stdin", Declined())
    code, _, err = run(["connect", "--no-listen"], capsys)
    assert code == 1 and "declined" in err


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_loopback_listener_receives_the_callback():
    port = free_port()
    ready = asyncio.Event()
    task = asyncio.create_task(wait_for_callback(f"http://127.0.0.1:{port}/callback", ready))
    await ready.wait()
    async with httpx.AsyncClient() as client:
        miss = await client.get(f"http://127.0.0.1:{port}/favicon.ico")
        hit = await client.get(f"http://127.0.0.1:{port}/callback?code=c&state=s&realmId=1")
    assert miss.status_code == 404 and hit.status_code == 200 and "close this window" in hit.text
    assert await task == f"http://127.0.0.1:{port}/callback?code=c&state=s&realmId=1"


def test_connect_completes_from_the_loopback_callback(fake, settings, capsys, monkeypatch):
    import threading

    port = free_port()
    fake.redirect_uri = f"http://127.0.0.1:{port}/callback"
    never = threading.Event()

    class BrowserOnThisMachine:
        """Nothing is pasted: the browser follows the redirect to the loopback listener instead."""

        def readline(self):
            redirect = fake.approve(latest_url(settings.db))
            for _ in range(50):
                try:
                    httpx.get(redirect, timeout=2)
                    break
                except httpx.ConnectError:
                    never.wait(0.05)  # the listener is still starting
            never.wait()
            return ""

    monkeypatch.setattr("sys.stdin", BrowserOnThisMachine())
    code, out, err = run(["connect", "--no-pull"], capsys)
    never.set()
    assert code == 0, err
    assert "comes back here by itself" in out and "Connected to Fake Law Co" in out
