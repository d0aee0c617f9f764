"""`ledgerlink payment|credit list|edit|delete`, and --db after the command (issue 16, items 1 and 10)."""

from __future__ import annotations

import json

from core.cli import main


def run(capsys, *args) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_payments_and_credit_notes_are_edited_and_deleted_by_reference_and_number(capsys, tmp_path):
    db = str(tmp_path / "f.db")
    assert run(capsys, "--db", db, "demo", "--clients", "3", "--invoices", "6", "--payments", "3", "--credits", "2",
               "--seed", "1")[0] == 0
    # --db after the command works as well as before it
    code, out, err = run(capsys, "payment", "list", "--json", "--db", db)
    assert code == 0, err
    pays = json.loads(out)["payments"]
    ref = pays[0]["reference"]
    assert ref and pays[0]["invoices"]

    code, out, err = run(capsys, "payment", "edit", ref, "--amount", "10.00", "--db", db, "--json")
    assert code == 0, err
    edited = json.loads(out)["payment"]
    assert edited["amount_minor"] == 1000 and edited["reference"] == ref
    code, out, _ = run(capsys, "payment", "delete", ref, "--db", db)
    assert code == 0 and f"Deleted payment {ref} (10.00)" in out
    code, _, err = run(capsys, "payment", "delete", ref, "--db", db)
    assert code == 1 and f"no posted payment with the id or reference {ref}" in err

    code, out, _ = run(capsys, "credit", "list", "--json", "--db", db)
    number = json.loads(out)["credit_notes"][0]["number"]
    code, out, err = run(capsys, "credit", "edit", number, "--amount", "5.00", "--db", db, "--json")
    assert code == 0, err
    assert json.loads(out)["credit_note"]["amount_minor"] == 500
    code, out, _ = run(capsys, "credit", "delete", number, "--db", db)
    assert code == 0 and f"Deleted {number}" in out
    code, out, _ = run(capsys, "credit", "list", "--db", db)
    assert number not in out


def test_status_takes_db_after_the_command(capsys, tmp_path):
    db = str(tmp_path / "f.db")
    run(capsys, "init", "--country", "US", "--db", db)
    code, out, err = run(capsys, "status", "--db", db)
    assert code == 0 and "Operating bank account" in out, err
    code, _, err = run(capsys, "status", "--db", str(tmp_path / "nope.db"))
    assert code == 1 and "There is no firm database" in err
