"""`ledgerlink connect / pull / map / disconnect` in-process, against the in-memory Intuit."""

import asyncio
import json
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
    # the fake stands for Intuit, so the CLI must not take it for the built-in sandbox
    monkeypatch.setenv("LEDGERLINK_QBO__API_BASE", "http://127.0.0.1:9")
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
    assert re.search(r"Reference data of Fake Law Co:\s+\d+ accounts, \d+ products/services, \d+ tax codes, \d+ tax rates?, \d+ customers?\.", out)
    assert max(len(line) for line in out.splitlines() if "/connect/oauth2?" not in line) <= 80

    code, out, _ = run(["map", "suggest", "--apply"], capsys)
    assert code == 0 and "Applied" in out
    code, out, _ = run(["map", "show", "gl"], capsys)
    assert "Operating Checking" in out and "Checking [35]" in out
    code, out, err = run(["map", "set", "sales", "4000", "Fees"], capsys)
    assert code == 1 and "cannot be used on invoice lines" in err
    code, out, _ = run(["map", "unset", "sales", "4000"], capsys)
    assert out == "Legal Fees - Litigation is no longer mapped.\n"
    code, out, _ = run(["map", "unset", "sales", "4000"], capsys)
    assert code == 0 and out == "Legal Fees - Litigation was not mapped: nothing to remove.\n"
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


class Pastes:
    """An admin who pastes each of `lines` in turn; None stands for the redirect of an approved consent."""

    def __init__(self, fake, db_path, lines):
        self.fake, self.db_path, self.lines = fake, db_path, list(lines)

    def readline(self):
        line = self.lines.pop(0)
        return (self.fake.approve(latest_url(self.db_path)) if line is None else line) + "\n"


def connected(fake, settings, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", PasteStdin(fake, settings.db))
    code, _, err = run(["connect", "--no-listen"], capsys)
    assert code == 0, err


def test_a_garbled_or_stale_paste_asks_again_on_the_same_attempt(fake, settings, capsys, monkeypatch):
    stale = "http://127.0.0.1:8765/callback?code=old&state=from-an-old-attempt&realmId=9130357"
    monkeypatch.setattr("sys.stdin", Pastes(fake, settings.db, ["http://127.0.0.1:8765/callback?code=abc", stale, None]))
    code, out, err = run(["connect", "--no-listen", "--no-pull"], capsys)
    assert code == 0, err
    assert "no state= part" in err and "does not belong to a connect attempt" in err
    assert out.count("Paste the address again") == 2
    assert "Connected to Fake Law Co" in out
    assert "When done, paste the whole address your browser was sent to and press Enter:" in out
    assert max(len(line) for line in out.splitlines() if "/connect/oauth2?" not in line) <= 80


def test_a_declined_consent_is_not_asked_again(fake, settings, capsys, monkeypatch):
    class DeclinedThenMore:
        calls = 0

        def readline(self):
            self.calls += 1
            state = latest_url(settings.db).split("state=")[1].split("&")[0]
            return f"http://127.0.0.1:8765/callback?error=access_denied&state={state}\n"

    stdin = DeclinedThenMore()
    monkeypatch.setattr("sys.stdin", stdin)
    code, out, err = run(["connect", "--no-listen"], capsys)
    assert code == 1 and "declined" in err and stdin.calls == 1 and "Paste the address again" not in out


def test_complete_with_an_empty_address_is_refused(fake, settings, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", PasteStdin(fake, settings.db))  # must not be read
    code, out, err = run(["connect", "--complete", "", "--no-pull"], capsys)
    assert code == 1 and "does not look like the address QuickBooks sent your browser back to" in err
    assert "Connected" not in out
    assert json.loads(run(["status", "--json"], capsys)[1])["connection"] is None


def test_url_only_on_the_built_in_sandbox_is_refused(settings, capsys, monkeypatch):
    make_firm(settings).close()
    monkeypatch.setenv("LEDGERLINK_DB", str(settings.db))
    code, out, err = run(["connect", "--url-only"], capsys)
    assert code == 1 and "--url-only cannot work with the built-in sandbox" in err and "ledgerlink connect" in err
    assert "/connect/oauth2?" not in out
    with sqlite3.connect(settings.db) as conn:
        assert conn.execute("SELECT count(*) FROM qbo_pending_connect").fetchone()[0] == 0


def test_map_set_by_a_name_two_references_share_or_a_typo(fake, settings, capsys, monkeypatch):
    fake.ref["Item"] += [
        {"Id": "11", "Name": "Advice", "Type": "Service", "IncomeAccountRef": {"value": "79"}, "Active": True},
        {"Id": "12", "Name": "Advice", "Type": "NonInventory", "IncomeAccountRef": {"value": "79"}, "Active": True},
    ]
    connected(fake, settings, capsys, monkeypatch)
    code, _, err = run(["map", "set", "sales", "4010", "advice"], capsys)
    assert code == 1
    assert "2 QuickBooks references for the Sales invoice account map are named 'advice'" in err
    assert "id 11 (Service); id 12 (NonInventory)" in err and "`ledgerlink map set sales '4010' 11`" in err
    code, out, _ = run(["map", "set", "sales", "4010", "12"], capsys)
    assert code == 0 and "Advice" in out
    code, _, err = run(["map", "set", "sales", "4020", "Legal Fees - Real Estat"], capsys)
    assert code == 1 and "Did you mean 'Legal Fees - Real Estate' (id 4)" in err
    assert "`ledgerlink map options sales` lists them" in err


def test_map_options_lists_ids_and_what_a_ledger_item_can_take(fake, settings, capsys, monkeypatch):
    connected(fake, settings, capsys, monkeypatch)
    run(["map", "set", "gl", "1000", "Checking"], capsys)
    code, out, _ = run(["map", "options", "gl"], capsys)
    assert code == 0
    assert "35  Bank" in out and "Checking  (used by Operating Checking)" in out and "84  Accounts Receivable" in out
    code, out, _ = run(["map", "options", "gl", "1010"], capsys)
    assert "36  Bank  Savings" in out and "Accounts Receivable" not in out
    assert "other references cannot take 1010" in out
    code, out, _ = run(["map", "options", "sales", "--json"], capsys)
    options = {o["qbo_id"]: o for o in json.loads(out)}
    assert options["1"]["name"] == "Legal Fees - Litigation" and options["3"]["type"] == "Category"


def test_map_show_fits_80_columns(fake, settings, capsys, monkeypatch):
    fake.ref["Account"][4]["Name"] = "Accounts Receivable (A/R) - Client Billings Main"
    connected(fake, settings, capsys, monkeypatch)
    code, out, _ = run(["map", "suggest"], capsys)
    assert code == 0 and "[84]" in out and max(len(line) for line in out.splitlines()) <= 80
    run(["map", "suggest", "--apply"], capsys)
    code, out, _ = run(["map", "show"], capsys)
    assert code == 0
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80
    receivable = next(line for line in lines if " 1200 " in line)
    assert receivable.endswith("[84]")
    tax = next(line for line in lines if "No Sales Tax (0%)" in line)
    assert tax.count("No Sales Tax (0%)") == 1 and tax.startswith(" * ")


def test_map_csv_mistakes_are_messages(fake, settings, capsys, monkeypatch, tmp_path):
    connected(fake, settings, capsys, monkeypatch)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    code, out, err = run(["map", "import", str(empty)], capsys)
    assert code == 1 and "empty.csv has no rows: expected a header kind,ledger_key,ledger_name,qbo_id,qbo_name" in err
    short = tmp_path / "short.csv"
    short.write_text("kind,ledger_key\nsales,4000\n")
    code, _, err = run(["map", "import", str(short)], capsys)
    assert code == 1 and "short.csv: the header has no qbo_id column" in err and "(s)" not in err
    assert err.count("the header has no") == 1
    semicolons = tmp_path / "semi.csv"
    semicolons.write_text("kind;ledger_key;qbo_id\nsales;4000;1\n")
    code, _, err = run(["map", "import", str(semicolons)], capsys)
    assert code == 1 and "the header has no kind or ledger_key or qbo_id column" in err and "comma-separated" in err
    code, _, err = run(["map", "export", str(tmp_path / "no-such-dir" / "m.csv")], capsys)
    assert code == 1 and "Cannot write" in err and "Traceback" not in err


def test_sync_before_connecting_says_so_once(fake, settings, capsys):
    code, out, _ = run(["sync"], capsys)
    assert code == 1
    assert out.count("Reconnect to QuickBooks") == 1 and "ledgerlink connect" in out
    code, out, _ = run(["sync", "--json"], capsys)
    summary = json.loads(out)
    assert code == 1 and summary["ok"] is False and summary["stopped"].startswith("Reconnect to QuickBooks")
    code, out, err = run(["reconcile", "--json"], capsys)
    assert code == 1 and json.loads(out) == {"ok": False, "error": err.removeprefix("error: ").strip(), "problems": []}


def test_sync_options_and_retry_mistakes_are_messages(fake, settings, capsys):
    code, _, err = run(["sync", "--limit", "5"], capsys)
    assert code == 1 and "--limit goes with --dry-run only" in err
    code, _, err = run(["sync", "--dry-run", "--watch"], capsys)
    assert code == 1 and "leave out --watch" in err
    for bad in ("0", "-3", "x"):
        with pytest.raises(SystemExit) as exit_:
            main(["sync", "--dry-run", "--limit", bad])
        assert exit_.value.code == 2 and "1 or more" in capsys.readouterr().err
    code, out, err = run(["sync", "retry", "credit_note", "7"], capsys)
    assert code == 1 and "Credit note 7 is not parked: `ledgerlink sync parked` lists" in err and out == ""
    code, out, _ = run(["sync", "retry", "--all"], capsys)
    assert code == 0 and out == "Nothing is parked.\n"


def test_a_document_waiting_for_a_map_says_how_to_map_it_here(fake, settings, capsys):
    from core.services import ledger
    from core.services.context import open_firm
    from tests.qbo.fakeqbo import account_id, tax_rate_id

    firm = open_firm(settings)
    try:
        client = ledger.add_client(firm, "Waiting Client").id
        ledger.create_invoice(firm, client_id=client, date="2026-03-01", lines=[dict(
            description="Advice", account_id=account_id(firm, "4000"), quantity="1", unit_price="10.00",
            tax_rate_id=tax_rate_id(firm, "No Sales Tax (0%)"))])
    finally:
        firm.close()
    code, out, _ = run(["sync", "--dry-run"], capsys)
    assert code == 0 and "parked: Tax rate No Sales Tax (0%) is not mapped" in out
    assert ("To map from the command line: `ledgerlink map options tax`, then "
            "`ledgerlink map set tax LEDGER QBO`") in out
    code, out, _ = run(["sync", "--dry-run", "--json"], capsys)
    assert "To map" not in out and json.loads(out)[0]["problem"]


def test_sync_enable_from_a_bad_date_says_what_is_wrong(fake, settings, capsys):
    code, _, err = run(["sync", "enable", "--from", "01/02/2026"], capsys)
    assert code == 1 and "is not a date: write it as YYYY-MM-DD, e.g. 2026-01-31" in err
    code, _, err = run(["sync", "enable", "--from", "2026-02-30"], capsys)
    assert code == 1 and "'2026-02-30' is not a date: that month has no such day" in err
    assert json.loads(run(["status", "--json"], capsys)[1])["steps"][-1]["ok"] is False
