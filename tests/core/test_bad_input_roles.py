"""Roles on the command line: QBO-side changes need an admin, ledger changes a bookkeeper or an admin. A refusal
names the user, the role needed and `ledgerlink users grant`, exits 1 with no traceback and writes nothing."""

from __future__ import annotations

import pytest

from core.cli import main

ADMIN_ONLY = [
    ("connect",),
    ("connect", "--complete", "http://127.0.0.1:8765/callback?code=c&state=s&realmId=1"),
    ("disconnect",),
    ("disconnect", "--purge"),
    ("map", "unset", "sales", "4000"),
    ("map", "import", "{maps}"),
    ("sync", "enable"),
    ("sync", "disable"),
    ("map", "writeoff", "--create"),
    ("import", "accounts", "{accounts}"),
]
BOOKKEEPER = [
    ("import", "clients", "{clients}"),
    ("sync",),
    ("sync", "retry", "--all"),
    ("sync", "retry", "invoice", "1"),
    ("pull",),
]


@pytest.fixture
def firm_db(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LEDGERLINK_USER", "alice")
    db = tmp_path / "f.db"
    assert main(["--db", str(db), "demo", "--country", "US", "--clients", "2", "--invoices", "2", "--payments", "0",
                 "--credits", "0"]) == 0
    (tmp_path / "maps.csv").write_text("kind,ledger_key,ledger_name,qbo_id,qbo_name\n")
    (tmp_path / "accounts.csv").write_text("code,name,type\n4999,Other fees,Income\n")
    (tmp_path / "clients.csv").write_text("name\nZed Holdings\n")
    capsys.readouterr()
    return db


def run_as(user, db, args, tmp_path, monkeypatch, capsys, file_digest) -> str:
    monkeypatch.setenv("LEDGERLINK_USER", user)
    monkeypatch.setattr("sys.stdin", open("/dev/null"))
    argv = [a.format(maps=tmp_path / "maps.csv", accounts=tmp_path / "accounts.csv", clients=tmp_path / "clients.csv")
            for a in args]
    before = file_digest(db)
    code = main(["--db", str(db), *argv])
    out, err = capsys.readouterr()
    assert code == 1, (args, out, err)
    assert "Traceback" not in out + err
    assert file_digest(db) == before, f"{args} changed the database"
    return err


@pytest.mark.parametrize("args", ADMIN_ONLY + BOOKKEEPER, ids=" ".join)
def test_a_user_without_a_role_changes_nothing(firm_db, tmp_path, monkeypatch, capsys, file_digest, args):
    err = run_as("bob", firm_db, args, tmp_path, monkeypatch, capsys, file_digest)
    needed = "admin" if args in ADMIN_ONLY else "bookkeeper"
    assert "User 'bob' has no role in this firm and cannot" in err
    assert f"an admin can run `ledgerlink users grant bob {needed}`" in err


@pytest.mark.parametrize("args", ADMIN_ONLY, ids=" ".join)
def test_a_bookkeeper_cannot_change_the_qbo_side(firm_db, tmp_path, monkeypatch, capsys, file_digest, args):
    assert main(["--db", str(firm_db), "users", "grant", "bob", "bookkeeper"]) == 0
    capsys.readouterr()
    err = run_as("bob", firm_db, args, tmp_path, monkeypatch, capsys, file_digest)
    assert "Only an admin can" in err and "user 'bob' is a bookkeeper" in err
    assert "`ledgerlink users grant bob admin`" in err


def test_a_bookkeeper_imports_clients(firm_db, tmp_path, monkeypatch, capsys):
    assert main(["--db", str(firm_db), "users", "grant", "bob", "bookkeeper"]) == 0
    monkeypatch.setenv("LEDGERLINK_USER", "bob")
    assert main(["--db", str(firm_db), "import", "clients", str(tmp_path / "clients.csv")]) == 0
    assert "Imported 1 client" in capsys.readouterr().out


async def test_the_tui_says_a_refusal_instead_of_crashing(settings, monkeypatch):
    """Retry-all on the sync monitor by a user with no role: a notification naming the user; the app goes on."""
    from core.services import ledger
    from tui.app import create_app

    ledger.create_firm(settings, "US", name="Smith Jones").close()
    monkeypatch.setenv("LEDGERLINK_USER", "bob")
    app = create_app(settings, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(3):
            await app.workers.wait_for_complete()
            await pilot.pause()
        await pilot.press("f4")
        await pilot.pause()
        await pilot.press("R")
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert any("User 'bob' has no role in this firm and cannot retry parked documents" in m for m in messages)
        assert app.is_running
