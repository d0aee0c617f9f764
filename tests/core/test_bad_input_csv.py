"""Bad CSV files through `ledgerlink import`: a message naming row and column, exit 1, no traceback, nothing written."""

from __future__ import annotations

import json
import sqlite3

import pytest

from core.cli import main

INVOICE_HEADER = "number,client,matter,date,due_date,description,account_code,quantity,unit_price,tax_rate"
PAYMENT_HEADER = "client,date,amount,bank_account,invoice_number,reference"
ZERO = "No Sales Tax (0%)"
BANK = "Operating account (First National Bank)"


def run(capsys, db, *args) -> tuple[int, str, str]:
    code = main(["--db", str(db), *args])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def firm_db(tmp_path, capsys):
    db = tmp_path / "f.db"
    code, _, _ = run(capsys, db, "demo", "--country", "US", "--clients", "2", "--invoices", "1", "--payments", "0",
                     "--credits", "0")
    assert code == 0
    name = json.loads(run(capsys, db, "report", "aging", "--json")[1])["clients"][0]["name"]
    return db, name


@pytest.fixture
def refused(firm_db, tmp_path, capsys, file_digest):
    """refused(kind, bytes, *fragments) -> stderr: exit 1, each fragment said, no traceback, the firm unchanged."""
    db, _ = firm_db

    def check(kind: str, data: bytes, *fragments: str) -> str:
        path = tmp_path / f"{kind}.csv"
        path.write_bytes(data)
        before = file_digest(db)
        code, out, err = run(capsys, db, "import", kind, str(path))
        assert code == 1, (out, err)
        for fragment in fragments:
            assert fragment in err, err
        assert "Traceback" not in err + out
        assert file_digest(db) == before, "the database changed"
        return err

    return check


def invoice_row(client: str, *, number="N-1", date="2026-03-01", qty="1", price="100.00", description="Advice") -> str:
    return f"{number},{client},,{date},,{description},4000,{qty},{price},{ZERO}"


def test_utf8_with_and_without_bom_and_utf16_with_bom_import(firm_db, tmp_path, capsys):
    db, _ = firm_db
    text = "name,email\nJosé Núñez,jn@example.com\n"
    for n, data in enumerate([text.encode("utf-8"), text.replace("José", "Zoë").encode("utf-8-sig"),
                              text.replace("José", "Łucja").encode("utf-16")]):
        path = tmp_path / f"c{n}.csv"
        path.write_bytes(data)
        code, out, err = run(capsys, db, "import", "clients", str(path))
        assert code == 0, err
    with sqlite3.connect(db) as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM contacts WHERE kind = 'client'")}
    assert {"José Núñez", "Zoë Núñez", "Łucja Núñez"} <= names
    clients_csv = tmp_path / "again.csv"
    clients_csv.write_text("name\nJosé Núñez\n", encoding="utf-8")
    assert run(capsys, db, "import", "clients", str(clients_csv))[0] == 0  # known already: nothing new, no error


def test_latin1_is_refused_naming_the_row(refused):
    err = refused("clients", "name,email\nAcme,a@example.com\nCafé Noir,c@example.com\n".encode("latin-1"),
                  "row 3: not UTF-8 text (byte 0xE9 after 'Caf') - save the file as UTF-8")
    assert "Café" not in err


def test_utf16_without_bom_is_refused(refused):
    refused("clients", "name\nAcme\n".encode("utf-16-le"), "row 1: not UTF-8 text", "save the file as UTF-8")


def test_a_one_megabyte_field_is_refused_naming_its_column(refused, firm_db):
    _, client = firm_db
    refused("invoices", f"{INVOICE_HEADER}\n{invoice_row(client, description='x' * 1_000_000)}\n".encode(),
            "row 2, column description: 1,000,000 characters, more than 4,000")


@pytest.mark.parametrize("price", ["1000000000000000000000", "99999999999999999999.99", "-1e30"])
def test_amounts_beyond_what_the_ledger_keeps(refused, firm_db, price):
    _, client = firm_db
    refused("invoices", f"{INVOICE_HEADER}\n{invoice_row(client, price=price)}\n".encode(),
            "row 2, column unit_price: unit price:")


def test_a_huge_total_from_many_lines_is_refused(refused, firm_db):
    _, client = firm_db
    rows = "\n".join(invoice_row(client, qty="999999999", price="900000.00") for _ in range(3))
    refused("invoices", f"{INVOICE_HEADER}\n{rows}\n".encode(),
            "column unit_price: invoice N-1 comes to more than Ledgerlink keeps")
    refused("payments", f"{PAYMENT_HEADER}\n{client},2026-03-01,100000000000000,{BANK},,\n".encode(),
            "row 2, column amount: amount: 100000000000000 is more than Ledgerlink keeps")


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "2200-01-01"])
def test_dates_outside_a_sane_range(refused, firm_db, day):
    _, client = firm_db
    refused("invoices", f"{INVOICE_HEADER}\n{invoice_row(client, date=day)}\n".encode(),
            f"row 2, column date: date: {day} is outside the dates Ledgerlink keeps (1900-01-01 to 2199-12-31)")
    refused("payments", f"{PAYMENT_HEADER}\n{client},{day},10.00,{BANK},,\n".encode(),
            f"row 2, column date: date: {day} is outside")


def test_a_duplicated_header_column_is_refused(refused, firm_db):
    _, client = firm_db
    refused("invoices", f"{INVOICE_HEADER},unit_price\n{invoice_row(client, price='100.00')},1.00\n".encode(),
            "row 1, column unit_price: the header has 'unit_price' twice (columns 9 and 11)")


def test_more_cells_than_the_header_is_refused(refused, firm_db):
    _, client = firm_db
    refused("invoices", f"{INVOICE_HEADER}\n{invoice_row(client, price='1,000.00')}\n".encode(),
            "row 2: 11 cells but the header has 10 columns")
    refused("payments", f"{PAYMENT_HEADER}\n{client},2026-03-01,1,50,{BANK},,\n".encode(),
            "row 2: 7 cells but the header has 6 columns")


@pytest.mark.parametrize("price", ['"1,50"', '"1,0,0"', '"1,5"', '"100,00"'])
def test_a_decimal_comma_is_refused_not_read_as_hundreds(refused, firm_db, price):
    _, client = firm_db
    refused("invoices", f"{INVOICE_HEADER}\n{invoice_row(client, price=price)}\n".encode(),
            f"row 2, column unit_price: unit price: '{price.strip(chr(34))}' has a comma - write amounts with a "
            "decimal point")
    refused("payments", f"{PAYMENT_HEADER}\n{client},2026-03-01,{price},{BANK},,\n".encode(),
            "row 2, column amount: amount:", "has a comma")


def test_a_quoted_amount_with_thousands_grouping_and_a_point_imports_exactly(firm_db, tmp_path, capsys):
    db, client = firm_db
    path = tmp_path / "inv.csv"
    path.write_text(f'{INVOICE_HEADER}\n{invoice_row(client, price=chr(34) + "1,000.50" + chr(34))}\n')

    def fees() -> int:
        tb = json.loads(run(capsys, db, "report", "trial-balance", "--json")[1])
        return next(a["credit_minor"] - a["debit_minor"] for a in tb["accounts"] if a["code"] == "4000")

    before = fees()
    code, _, err = run(capsys, db, "import", "invoices", str(path))
    assert code == 0, err
    assert fees() - before == 100_050


def test_unknown_columns_are_named_with_the_expected_header(refused, firm_db):
    _, client = firm_db
    err = refused("payments", f"client,date,amount,bank_acount,memo\n{client},2026-03-01,5,{BANK},x\n".encode(),
                  "row 1: unknown columns 'bank_acount' (did you mean 'bank_account'?), 'memo'",
                  f"the header is {PAYMENT_HEADER}",
                  "row 1, column bank_account: the header has no 'bank_account' column")
    assert "memo" in err


def test_control_characters_in_a_cell_are_refused(refused):
    refused("clients", b"name\nEvil\x1b[2JCorp\n", "row 2, column name: contains the control character U+001B")


def test_every_problem_of_a_row_is_named(firm_db, tmp_path, capsys):
    db, client = firm_db
    path = tmp_path / "p.csv"
    path.write_text(f'{PAYMENT_HEADER}\n{client},9999-12-31,"1,50",{BANK},,\n')
    code, _, err = run(capsys, db, "import", "payments", str(path))
    assert code == 1
    assert "2 problems" in err and "row 2, column date" in err and "row 2, column amount" in err


def test_broken_quoting_is_refused_naming_the_row(refused):
    refused("clients", b'name,email\nAcme,a@example.com\n"Unterminated,x\n', "row 3: not valid CSV (unexpected end of data)")
    refused("clients", b'name,email\n"Acme"Corp,a@example.com\n', "row 2: not valid CSV")


def test_an_empty_file_or_a_header_of_nothing_is_refused(refused):
    refused("clients", b"", "row 1: the file has no header row - the first row names the columns: name,email")
    refused("clients", b"\n\n", "row 1: the file has no header row")


@pytest.mark.parametrize("sep,name", [(";", "semicolons"), ("\t", "tabs")])
def test_a_file_separated_by_semicolons_or_tabs_is_named_so(refused, sep, name):
    refused("clients", f"name{sep}email\nAcme{sep}a@example.com\n".encode(),
            f"row 1: the columns are separated by {name}, not commas - save the file as CSV (comma delimited)")


def test_a_payment_names_the_column_a_document_problem_is_about(refused, firm_db):
    db, client = firm_db
    with sqlite3.connect(db) as conn:
        trust = conn.execute("SELECT name FROM bank_accounts WHERE kind = 'trust'").fetchone()[0]
        other, number = conn.execute("SELECT c.name, i.number FROM invoices i JOIN contacts c ON c.id = i.client_id "
                                     "LIMIT 1").fetchone()
        someone_else = conn.execute("SELECT name FROM contacts WHERE kind = 'client' AND name != ?",
                                    [other]).fetchone()[0]
    refused("payments", f"{PAYMENT_HEADER}\n{other},2026-03-01,1.00,{trust},{number},\n".encode(),
            f"row 2, column bank_account: {trust} is a trust account")
    refused("payments", f"{PAYMENT_HEADER}\n{someone_else},2026-03-01,1.00,{BANK},{number},\n".encode(),
            f"row 2, column invoice_number: invoice {number} belongs to another client")


def test_an_invoice_names_the_matter_of_another_client(refused, firm_db):
    db, client = firm_db
    with sqlite3.connect(db) as conn:
        reference = conn.execute("SELECT m.reference FROM matters m JOIN contacts c ON c.id = m.client_id "
                                 "WHERE c.name != ? LIMIT 1", [client]).fetchone()[0]
    row = f"N-9,{client},{reference},2026-03-01,,Advice,4000,1,10.00,{ZERO}"
    refused("invoices", f"{INVOICE_HEADER}\n{row}\n".encode(),
            f"row 2, column matter: matter {reference} belongs to another client")


def test_what_only_the_ledger_refuses_is_named_at_its_invoice_row(refused, firm_db, monkeypatch):
    """The file goes to the ledger in one batch; when the ledger refuses it, each invoice is tried on its own so
    the refusal lands on the row of the invoice it is about."""
    from core.errors import ValidationError
    from core.ledger import billing

    _, client = firm_db
    real = billing.post_invoices

    def picky(firm, specs):
        specs = list(specs)
        if any(s["number"] == "N-2" for s in specs):
            raise ValidationError("the ledger says no to N-2")
        return real(firm, specs)

    monkeypatch.setattr(billing, "post_invoices", picky)
    rows = [invoice_row(client, number="N-1"), invoice_row(client, number="N-1", description="More"),
            invoice_row(client, number="N-2"), invoice_row(client, number="N-3")]
    refused("invoices", (INVOICE_HEADER + "\n" + "\n".join(rows) + "\n").encode(),
            "1 problem; first: row 4, column number: the ledger says no to N-2")
