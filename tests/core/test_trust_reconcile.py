"""Statement import (CSV), matching and the three-way reconciliation, through `ledgerlink trust ...`."""

from __future__ import annotations

import json
import sqlite3

import pytest

from core.cli import main


def run(capsys, db, *args) -> tuple[int, str, str]:
    code = main(["--db", str(db), *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def dump(db) -> str:
    conn = sqlite3.connect(db)
    try:
        return "\n".join(conn.iterdump())
    finally:
        conn.close()


@pytest.fixture
def db(tmp_path, capsys):
    """A US firm with a Trust account and this activity in January 2026:
    Jan 05 receipt Jane 1,000 (WIRE-1)   Jan 06 receipt Acme 500   Jan 20 disbursement Jane 300 (CHQ 101)
    Jan 28 receipt Acme 200 (deposit in transit)   Jan 30 disbursement Acme 50 (CHQ 102, not cleared)."""
    db = tmp_path / "f.db"
    steps = [["init", "--country", "US"],
             ["setup", "bank", "trust", "Trust", "--account", "1100", "--bank", "First Bank"],
             ["setup", "bank", "operating", "Operating", "--account", "1000", "--bank", "First Bank"]]
    for argv in steps:
        assert run(capsys, db, *argv)[0] == 0, argv
    from core.services import ledger as L
    from core.services.context import open_firm
    from core.settings import Settings

    firm = open_firm(Settings(_env_file=None, db=db))
    L.add_client(firm, "Jane Roe")
    L.add_client(firm, "Acme Ltd")
    firm.close()
    for argv in (["receive", "Jane Roe", "1000", "--date", "2026-01-05", "--reference", "WIRE-1"],
                 ["receive", "Acme Ltd", "500", "--date", "2026-01-06"],
                 ["disburse", "Jane Roe", "300", "--date", "2026-01-20", "--reference", "CHQ 101", "--payee", "Court"],
                 ["receive", "Acme Ltd", "200", "--date", "2026-01-28"],
                 ["disburse", "Acme Ltd", "50", "--date", "2026-01-30", "--reference", "CHQ 102", "--payee", "Bailiff"]):
        assert run(capsys, db, "trust", *argv, "--account", "Trust")[0] == 0, argv
    return db


STATEMENT = ("\ufeffDate,Description,Amount,Reference\n"
             "2026-01-06,Incoming wire J ROE,1000.00,WIRE-1\n"
             "2026-01-07,Deposit,500.00,\n"
             "2026-01-24,Cheque 101,-300.00,CHQ 101\n")


def write(tmp_path, text: str | bytes, name: str = "jan.csv"):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def test_demo_like_statement_balances_with_outstanding_items_and_locks_the_period(db, capsys, tmp_path):
    code, out, _ = run(capsys, db, "trust", "statement", "import", "--account", "Trust", str(write(tmp_path, STATEMENT)),
                       "--json")
    assert code == 0 and json.loads(out) == {"ok": True, "statement_id": 1, "lines": 3, "matched": 3, "unmatched": 0}
    code, out, _ = run(capsys, db, "trust", "reconcile", "--account", "Trust", "--as-of", "2026-01-31", "--json",
                       "--export", str(tmp_path / "out"))
    rec = json.loads(out)
    assert code == 0 and rec["ok"] and rec["differences"] == []
    assert (rec["statement_minor"], rec["outstanding_deposits_minor"], rec["outstanding_cheques_minor"]) == (
        120000, 20000, 5000)
    assert rec["adjusted_bank_minor"] == rec["book_minor"] == rec["clients_minor"] == 135000
    assert [i["reference"] for i in rec["outstanding_cheques"]] == ["CHQ 102"]
    assert rec["saved_id"] == 1 and rec["locked_until"] == "2026-01-31"
    text = (tmp_path / "out" / "trust-reconciliation-trust-2026-01-31.txt").read_text()
    assert "RECONCILED" in text and "CHQ 102" in text and "1,350.00" in text
    rows = (tmp_path / "out" / "trust-reconciliation-trust-2026-01-31.csv").read_text().splitlines()
    assert rows[0] == "section,date,id,description,reference,amount"
    assert "adjusted_bank_balance,2026-01-31,,,,1350.00" in rows and any(r.startswith("outstanding_cheque,") for r in rows)
    audit = sqlite3.connect(db).execute("SELECT count(*) FROM audit_log WHERE action = 'trust_reconcile'").fetchone()
    assert audit == (1,)
    # the reconciled period is closed: postings, statement lines and matches dated in it are refused
    before = dump(db)
    code, _, err = run(capsys, db, "trust", "receive", "Jane Roe", "5", "--account", "Trust", "--date", "2026-01-15")
    assert code == 1 and "date: 2026-01-15 is in a reconciled period: Trust is reconciled to 2026-01-31" in err
    code, _, err = run(capsys, db, "trust", "reverse", "1", "--reason", "typo")
    assert code == 1 and "reconciled period" in err
    late = write(tmp_path, "date,description,amount\n2026-01-31,Fee,-1.00\n2026-02-02,Cheque 102,-50.00\n", "feb.csv")
    code, _, err = run(capsys, db, "trust", "statement", "import", "--account", "Trust", str(late))
    assert code == 1 and "row 2, column date: 2026-01-31 is in a reconciled period" in err
    code, _, err = run(capsys, db, "trust", "statement", "unmatch", "--account", "Trust", "1")
    assert code == 1 and "reconciled period" in err
    assert dump(db) == before
    # the next month: the outstanding cheque clears on a later line
    feb = write(tmp_path, "date,description,amount\n2026-02-02,Cheque 102,-50.00\n2026-02-03,Deposit,200.00\n", "f2.csv")
    assert run(capsys, db, "trust", "statement", "import", "--account", "Trust", str(feb))[0] == 0
    code, out, _ = run(capsys, db, "trust", "reconcile", "--account", "Trust", "--as-of", "2026-02-28", "--json")
    assert code == 0 and json.loads(out)["outstanding_cheques"] == []


def test_a_changed_statement_line_fails_and_says_where(db, capsys, tmp_path):
    changed = STATEMENT.replace("-300.00", "-310.00")
    assert run(capsys, db, "trust", "statement", "import", "--account", "Trust", str(write(tmp_path, changed)))[0] == 0
    code, out, _ = run(capsys, db, "trust", "reconcile", "--account", "Trust", "--as-of", "2026-01-31")
    assert code == 1 and "DOES NOT BALANCE" in out
    assert "statement line jan.csv row 4 (2026-01-24, Cheque 101, -310.00 USD) matches no ledger entry" in out
    assert "adjusted bank balance 1,040.00 USD differs from the book balance 1,350.00 USD by -310.00 USD" in out
    code, out, _ = run(capsys, db, "trust", "reconcile", "--account", "Trust", "--as-of", "2026-01-31", "--json")
    rec = json.loads(out)
    assert code == 1 and not rec["ok"] and rec["saved_id"] is None
    assert {d["code"] for d in rec["differences"]} == {"bank_vs_book", "unmatched_statement_line"}
    # the bookkeeper keeps the cheque outstanding and then matches by hand: amounts must agree
    show = json.loads(run(capsys, db, "trust", "statement", "show", "--account", "Trust", "--json")[1])
    cheque = next(i for i in show["ledger_entries"] if i["reference"] == "CHQ 101")
    code, _, err = run(capsys, db, "trust", "statement", "match", "--account", "Trust", "3", str(cheque["entry_id"]))
    assert code == 1 and "only equal amounts match" in err
    assert run(capsys, db, "trust", "statement", "outstanding", "--account", "Trust", str(cheque["entry_id"]))[0] == 0
    assert run(capsys, db, "trust", "statement", "unmatch", "--account", "Trust", "1")[0] == 0
    assert run(capsys, db, "trust", "statement", "auto", "--account", "Trust")[0] == 0
    show = json.loads(run(capsys, db, "trust", "statement", "show", "--account", "Trust", "--json")[1])
    assert [x["entry_id"] is not None for x in show["statement_lines"]] == [True, True, False]
    assert next(i for i in show["ledger_entries"] if i["entry_id"] == cheque["entry_id"])["marked_outstanding"]


@pytest.mark.parametrize("content,fragment", [
    ("date,description,sum\n2026-01-06,x,1.00\n", "row 1 (header): unknown column 'sum'; missing column amount"),
    ("date,amount\n2026-01-06,1.00\n", "missing column description"),
    ("date,description,amount\n2026-01-06,Wire,\"1000,50\"\n", "row 2, column amount: '1000,50' has a decimal comma"),
    ("date,description,amount\n2026-01-06,Wire,1.000,50\n", "row 2: 4 cells, but the header has 3 columns"),
    ("date,description,amount\n06/01/2026,Wire,10.00\n", "row 2, column date: '06/01/2026' is not a date"),
    ("date,description,amount\n2026-01-06,Wire,ten\n", "row 2, column amount: 'ten' is not a number"),
    ("date,description,amount\n2026-01-06,Wire,0.00\n", "row 2, column amount: 0 is not a bank movement"),
    ("date,description,amount\n2026-01-06,Wire,1.00\n2026-01-07,,2.00\n", "row 3, column description: empty"),
    (b"date,description,amount\n2026-01-06,Caf\xe9,1.00\n", "row 2, column description: byte 0xE9 is not UTF-8"),
    ("", "the file is empty"),
    ("date;description;amount\n2026-01-06;Wire;10,00\n", "row 1 (header): the columns are separated by semicolons"),
])
def test_bad_statement_files_name_row_and_column_and_write_nothing(db, capsys, tmp_path, content, fragment):
    before = dump(db)
    code, _, err = run(capsys, db, "trust", "statement", "import", "--account", "Trust", str(write(tmp_path, content)))
    assert code == 1 and fragment in err and "Traceback" not in err, err
    assert dump(db) == before


def test_the_same_file_twice_and_an_operating_account_are_refused(db, capsys, tmp_path):
    path = write(tmp_path, STATEMENT)
    assert run(capsys, db, "trust", "statement", "import", "--account", "Trust", str(path))[0] == 0
    code, _, err = run(capsys, db, "trust", "statement", "import", "--account", "Trust", str(path))
    assert code == 1 and "jan.csv was already imported into Trust" in err
    code, _, err = run(capsys, db, "trust", "statement", "import", "--account", "Operating", str(path))
    assert code == 1 and "Operating is an operating account" in err
    code, out, err = run(capsys, db, "trust", "reconcile", "--account", "Trust", "--as-of", "2026-02-30")
    assert code == 1 and "--as-of '2026-02-30' is not a date" in err


def test_an_ofx_statement_is_imported_and_matched(db, capsys, tmp_path):
    from pathlib import Path

    ofx = (Path(__file__).parents[1] / "fixtures" / "trust_statement.ofx").read_bytes()
    path = write(tmp_path, ofx, "jan.qfx")
    code, out, _ = run(capsys, db, "trust", "statement", "import", "--account", "Trust", str(path), "--json")
    assert code == 0 and json.loads(out) == {"ok": True, "statement_id": 1, "lines": 2, "matched": 2, "unmatched": 0}
    show = json.loads(run(capsys, db, "trust", "statement", "show", "--account", "Trust", "--json")[1])
    assert [(x["date"], x["amount_minor"], x["reference"]) for x in show["statement_lines"]] == [
        ("2026-01-06", 100000, "WIRE-1"), ("2026-01-24", -30000, "101")]
    before = dump(db)
    bad = write(tmp_path, ofx.replace(b"<TRNAMT>-300.00", b"<TRNAMT>-300.005"), "bad.ofx")
    code, _, err = run(capsys, db, "trust", "statement", "import", "--account", "Trust", str(bad))
    assert code == 1 and "transaction 2 (FITID 2), TRNAMT" in err and "more than 2 decimal places" in err
    garbled = write(tmp_path, b"OFXHEADER:100\n<OFX><BANKMSGSRSV1>", "garbled.ofx")
    code, _, err = run(capsys, db, "trust", "statement", "import", "--account", "Trust", str(garbled))
    assert code == 1 and "the file cannot be read as OFX/QFX" in err and "Traceback" not in err
    assert dump(db) == before


def test_a_reconciliation_dated_after_today_is_refused_naming_both_days(db, capsys, tmp_path):
    import datetime as dt

    assert run(capsys, db, "trust", "statement", "import", "--account", "Trust", str(write(tmp_path, STATEMENT)))[0] == 0
    today = dt.date.today()
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    before = dump(db)
    for extra in ((), ("--no-save",)):
        code, out, err = run(capsys, db, "trust", "reconcile", "--account", "Trust", "--as-of", tomorrow, *extra)
        assert code == 1 and out == ""
        assert f"--as-of: {tomorrow} is after today ({today.isoformat()})" in err
    assert dump(db) == before
    code, out, _ = run(capsys, db, "trust", "reconcile", "--account", "Trust", "--as-of", today.isoformat(), "--json")
    assert json.loads(out)["as_of"] == today.isoformat()
