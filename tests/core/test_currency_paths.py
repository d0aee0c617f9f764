"""Foreign-currency clients are refused on every path a client's or a payment's currency can be given: the ledger
(services: add_client, record_payment; the TUI's client form has no currency and goes through add_client) and the
CSV imports, whose optional `currency` column takes the home currency only and names the row otherwise."""

from __future__ import annotations

import pytest

from core.cli import main
from core.errors import ValidationError
from core.services import ledger as L

BANK = "Operating account (First National Bank)"


def _import(capsys, db, kind: str, path, text: str) -> tuple[int, str]:
    path.write_text(text)
    code = main(["--db", str(db), "import", kind, str(path)])
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    return code, out.err


@pytest.fixture
def firm_db(tmp_path, capsys):
    db = tmp_path / "f.db"
    assert main(["--db", str(db), "demo", "--country", "US", "--clients", "1", "--invoices", "1", "--payments", "0",
                 "--credits", "0"]) == 0
    capsys.readouterr()
    return db


def test_a_clients_csv_with_a_foreign_currency_is_refused_at_its_row_and_nothing_is_written(firm_db, tmp_path, capsys,
                                                                                              file_digest):
    before = file_digest(firm_db)
    code, err = _import(capsys, firm_db, "clients", tmp_path / "clients.csv",
                        "name,email,currency\nHome Co,home@example.com,usd\nMaple Leaf Ltd,ml@example.com,CAD\n")
    assert code == 1
    assert ("row 3, column currency: currency: client Maple Leaf Ltd is billed in CAD, but the firm keeps its books "
            "in USD only; foreign-currency clients and payments are not supported yet, so record it in USD") in err
    assert file_digest(firm_db) == before
    code, _err = _import(capsys, firm_db, "clients", tmp_path / "home.csv", "name,currency\nHome Co,usd\nOther Co,\n")
    assert code == 0


def test_a_payments_csv_in_a_foreign_currency_is_refused_at_its_row(firm_db, tmp_path, capsys, file_digest):
    from core.services.context import open_firm
    from core.settings import Settings

    firm = open_firm(Settings(_env_file=None, db=firm_db))
    try:
        client = L.list_clients(firm)[0].name
    finally:
        firm.close()
    before = file_digest(firm_db)
    code, err = _import(capsys, firm_db, "payments", tmp_path / "payments.csv",
                        f"client,date,amount,bank_account,currency\n{client},2026-05-01,10.00,{BANK},EUR\n")
    assert code == 1
    assert "row 2, column currency: currency: the payment is in EUR, but the firm keeps its books in USD only" in err
    assert file_digest(firm_db) == before


def test_the_ledger_refuses_a_foreign_currency_client_and_payment_by_name(ready):
    with pytest.raises(ValidationError, match="Client Maple Leaf Ltd: currency CAD is not the firm's home currency"):
        L.add_client(ready.firm, "Maple Leaf Ltd", currency="CAD")
    with pytest.raises(ValidationError, match="currency: Acme Widgets Inc.'s payment is in EUR"):
        L.record_payment(ready.firm, client_id=ready.client, date="2026-02-02", amount="10", currency="EUR",
                         bank_account_id=ready.operating)
    assert [c.name for c in L.list_clients(ready.firm)] == ["Acme Widgets Inc.", "Jane Roe"]
