"""`ledgerlink trust ...` on a fresh firm, as a bookkeeper or a script would run it."""

from __future__ import annotations

import json

import pytest

from core.cli import main


def run(capsys, db, *args) -> tuple[int, str, str]:
    code = main(["--db", str(db), *args])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def db(tmp_path, capsys):
    """A fresh US firm with two trust accounts (Trust, Separate Trust), an operating account and two clients."""
    db = tmp_path / "f.db"
    for argv in (["init", "--country", "US"],
                 ["setup", "bank", "operating", "Operating", "--account", "1000", "--bank", "First Bank"],
                 ["setup", "bank", "trust", "Trust", "--account", "1100", "--bank", "First Bank"],
                 ["setup", "bank", "trust", "Separate Trust", "--account", "1110", "--bank", "First Bank"]):
        assert run(capsys, db, *argv)[0] == 0, argv
    from core.services import ledger as L
    from core.services.context import open_firm
    from core.settings import Settings

    firm = open_firm(Settings(_env_file=None, db=db))
    try:
        jane = L.add_client(firm, "Jane Roe")
        L.add_matter(firm, jane.id, "Estate of Roe", reference="JR-1")
        L.add_client(firm, "Acme Ltd")
        zero = next(r.id for r in L.list_tax_rates(firm) if r.rate_ppm == 0)
        L.create_invoice(firm, client_id=jane.id, date="2026-02-01", number="INV-9", lines=[dict(
            description="Fees", account_id=L.get_account_by_code(firm, "4000").id, quantity="1",
            unit_price="250.00", tax_rate_id=zero)])
    finally:
        firm.close()
    return db


def _digest(db) -> bytes:
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        return "\n".join(conn.iterdump()).encode()
    finally:
        conn.close()


def test_jane_and_acme_by_account_on_the_command_line(db, capsys):
    code, out, _ = run(capsys, db, "trust", "receive", "Jane Roe", "1000", "--account", "Trust", "--date",
                       "2026-01-05", "--reference", "WIRE-1")
    assert code == 0 and "Jane Roe now holds 1,000.00 USD in Trust." in out
    assert run(capsys, db, "trust", "receive", "Acme Ltd", "500", "--account", "1110")[0] == 0  # by GL code
    before = _digest(db)
    code, _, err = run(capsys, db, "trust", "disburse", "Jane Roe", "800", "--account", "Separate Trust")
    assert code == 1
    assert "Jane Roe holds 0.00 USD in trust; 800.00 USD cannot be paid out (account Separate Trust" in err
    assert "Traceback" not in err and _digest(db) == before
    code, out, _ = run(capsys, db, "trust", "disburse", "Jane Roe", "800", "--account", "Trust", "--payee",
                       "Court", "--reference", "CHQ 101", "--json")
    body = json.loads(out)
    assert code == 0 and body["transaction"]["payee"] == "Court" and body["transaction"]["reference"] == "CHQ 101"
    assert body["balances"] == [{"bank_account_id": body["transaction"]["bank_account_id"], "account": "Trust",
                                 "client_balance_minor": 20000}]
    ledger = json.loads(run(capsys, db, "trust", "ledger", "--json")[1])
    assert {(x["client"], x["matter"], x["account"], x["balance_minor"]) for x in ledger["ledgers"]} == {
        ("Jane Roe", None, "Trust", 20000), ("Acme Ltd", None, "Separate Trust", 50000)}
    assert all(a["book_minor"] == a["clients_minor"] for a in ledger["accounts"])


def test_matter_transfer_refund_pay_and_reverse(db, capsys):
    assert run(capsys, db, "trust", "receive", "jane roe", "600", "--account", "Trust", "--matter", "JR-1",
               "--date", "2026-01-05")[0] == 0
    code, out, _ = run(capsys, db, "trust", "transfer", "Jane Roe", "100", "--from", "Trust", "--to",
                       "Separate Trust", "--date", "2026-01-06")
    assert code == 0 and "Trust -> Separate Trust" in out
    assert run(capsys, db, "trust", "refund", "Jane Roe", "50", "--account", "Separate Trust")[0] == 0
    code, out, _ = run(capsys, db, "trust", "pay", "INV-9", "250", "--account", "Trust", "--date", "2026-02-05")
    assert code == 0 and "Jane Roe now holds 250.00 USD in Trust" in out
    code, _, err = run(capsys, db, "trust", "pay", "INV-9", "1", "--account", "Trust")
    assert code == 1 and "overpayment" in err
    view = json.loads(run(capsys, db, "trust", "ledger", "Jane Roe", "--matter", "JR-1", "--json")[1])
    assert {(x["account"], x["balance_minor"]) for x in view["ledgers"]} == {("Trust", 25000), ("Separate Trust", 5000)}
    assert [e["amount_minor"] for e in view["entries"]] == [60000, 10000, -10000, -25000, -5000]  # by date
    code, out, _ = run(capsys, db, "trust", "reverse", "3", "--reason", "Refund cheque void", "--json")
    assert code == 0 and json.loads(out)["transaction"]["status"] == "reversed"
    code, out, _ = run(capsys, db, "trust", "ledger", "Jane Roe")
    assert code == 0 and "JR-1" in out and "Separate Trust" in out and "100.00" in out


@pytest.mark.parametrize("argv,fragment", [
    (["receive", "Nobody", "5", "--account", "Trust"], "client: there is no client 'Nobody'"),
    (["receive", "Jane Roe", "5", "--account", "Trust", "--matter", "XX-9"], "matter: there is no matter 'XX-9'"),
    (["receive", "Acme Ltd", "5", "--account", "Trust", "--matter", "JR-1"], "matter JR-1 belongs to Jane Roe"),
    (["receive", "Jane Roe", "5", "--account", "Savings"], "--account: there is no bank account 'Savings'"),
    (["receive", "Jane Roe", "5", "--account", "Operating"], "--account: Operating is an operating account"),
    (["pay", "INV-9", "5", "--account", "Trust", "--operating", "Trust"], "--operating: Trust is a trust account"),
    (["receive", "Jane Roe", "0", "--account", "Trust"], "amount: 0 must be more than zero"),
    (["receive", "Jane Roe", "-5", "--account", "Trust"], "amount: -5 must be more than zero"),
    (["receive", "Jane Roe", "5x", "--account", "Trust"], "amount: '5x' is not a number"),
    (["receive", "Jane Roe", "12,50", "--account", "Trust"], "decimal comma"),
    (["receive", "Jane Roe", "5", "--account", "Trust", "--date", "2026-13-01"], "is not a date"),
    (["pay", "INV-404", "5", "--account", "Trust"], "invoice: there is no invoice 'INV-404'"),
    (["transfer", "Jane Roe", "5", "--from", "Trust", "--to", "Trust"], "two different trust accounts"),
])
def test_bad_input_names_the_field_and_writes_nothing(db, capsys, argv, fragment):
    before = _digest(db)
    code, out, err = run(capsys, db, "trust", *argv)
    assert code == 1 and fragment in err and "Traceback" not in err, err
    assert _digest(db) == before
