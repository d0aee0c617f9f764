"""`ledgerlink init/demo/import/report/status/users` as an admin or a script would run them."""

from __future__ import annotations

import json

from core.cli import main


def run(capsys, db, *args) -> tuple[int, str, str]:
    code = main(["--db", str(db), *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_init_then_status_lists_what_is_left(capsys, tmp_path):
    db = tmp_path / "f.db"
    code, out, _ = run(capsys, db, "init", "--country", "CA", "--name", "Tremblay Avocats")
    assert code == 0 and "Created Tremblay Avocats (CA)" in out and "alice is admin" in out
    code, out, _ = run(capsys, db, "status")
    assert "[ ] Operating bank account" in out and "[x] Accounting method is Accrual" in out
    code, _, err = run(capsys, db, "init", "--country", "CA")
    assert code == 1 and "already holds a firm" in err


def test_demo_is_deterministic_and_completes_the_ledger_steps(capsys, tmp_path):
    reports = []
    for name in ("a.db", "b.db"):
        code, out, _ = run(capsys, tmp_path / name, "demo", "--country", "NZ", "--clients", "6", "--invoices", "60",
                           "--payments", "30", "--credits", "6", "--seed", "7")
        assert code == 0 and "60 invoices" in out
        reports.append(run(capsys, tmp_path / name, "report", "trial-balance", "--json")[1])
    assert reports[0] == reports[1]
    _, out, _ = run(capsys, tmp_path / "a.db", "status", "--json")
    status = json.loads(out)
    assert set(status) == {"firm", "steps", "connection", "metered_reads", "queue", "lock_date", "customers_waiting",
                           "restore", "waits"}
    assert all(s["ok"] for s in status["steps"][:8])
    assert status["queue"]["queued"] > 60


def test_report_json_shapes(capsys, tmp_path):
    db = tmp_path / "f.db"
    run(capsys, db, "demo", "--clients", "4", "--invoices", "20", "--payments", "8", "--credits", "2")
    tb = json.loads(run(capsys, db, "report", "trial-balance", "--json")[1])
    assert set(tb) == {"currency", "accounts", "total_debit_minor", "total_credit_minor"}
    assert tb["currency"] == "USD" and tb["total_debit_minor"] == tb["total_credit_minor"] > 0
    assert all(set(a) == {"code", "name", "debit_minor", "credit_minor"} for a in tb["accounts"])
    assert all(isinstance(a["debit_minor"], int) for a in tb["accounts"])
    aging = json.loads(run(capsys, db, "report", "aging", "--json", "--as-of", "2026-12-31")[1])
    receivable = next(a for a in tb["accounts"] if a["code"] == "1200")
    assert aging["total_minor"] == receivable["debit_minor"]
    trust = json.loads(run(capsys, db, "report", "trust", "--json")[1])
    assert trust["trust_bank_minor"] == trust["client_total_minor"] == sum(b["balance_minor"] for b in trust["balances"])
    code, out, _ = run(capsys, db, "report", "trial-balance")
    assert code == 0 and "Total" in out and "Accounts Receivable" in out


def test_import_is_all_or_nothing_and_names_every_bad_row(capsys, tmp_path):
    db = tmp_path / "f.db"
    run(capsys, db, "init", "--country", "US")
    clients = tmp_path / "clients.csv"
    clients.write_text("name,email,matter\nAcme Widgets Inc.,ap@acme.example,Acme v. Bolt\n"
                       "Acme Widgets Inc.,,Lease review\n,nobody@example.com,\n")
    code, _, err = run(capsys, db, "import", "clients", str(clients))
    assert code == 1 and "row 4, column name: name: a contact needs a name" in err
    clients.write_text("name,email,matter\nAcme Widgets Inc.,ap@acme.example,Acme v. Bolt\n"
                       "Acme Widgets Inc.,,Lease review\nJane Roe,jane@example.com,\n")
    code, out, _ = run(capsys, db, "import", "clients", str(clients))
    assert code == 0 and "Imported 2 clients" in out
    invoices = tmp_path / "invoices.csv"
    invoices.write_text(
        "number,client,matter,date,due_date,description,account_code,quantity,unit_price,tax_rate\n"
        "B-1,Acme Widgets Inc.,0001-001,2026-03-01,2026-03-31,Advice,4000,2.5,300,No Sales Tax (0%)\n"
        "B-1,Acme Widgets Inc.,0001-001,2026-03-01,2026-03-31,Courier,4100,1,25.50,No Sales Tax (0%)\n"
        "B-2,Jane Roe,,2026-03-02,,Will,4040,1,abc,No Sales Tax (0%)\n")
    code, _, err = run(capsys, db, "import", "invoices", str(invoices))
    assert code == 1 and "row 4, column unit_price: unit price: 'abc' is not a number" in err
    invoices.write_text(invoices.read_text().replace("abc", "450"))
    assert run(capsys, db, "import", "invoices", str(invoices))[0] == 0
    accounts = tmp_path / "accounts.csv"
    accounts.write_text("code,name,type,subtype\n4070,Legal Fees - Immigration,Income,fee_income\n"
                        "4000,Dup,Income,\n4080,Odd,Planet,\n")
    code, _, err = run(capsys, db, "import", "accounts", str(accounts))
    assert code == 1
    assert "row 3, column code: Account code 4000 is already used" in err
    assert "row 4, column type: type: 'Planet' is not an account type" in err
    tb = json.loads(run(capsys, db, "report", "trial-balance", "--json")[1])
    assert tb["total_debit_minor"] == 75000 + 2550 + 45000


def test_users_grant_and_list(capsys, tmp_path, monkeypatch):
    db = tmp_path / "f.db"
    run(capsys, db, "init", "--country", "US")
    code, out, _ = run(capsys, db, "users", "grant", "bob", "bookkeeper")
    assert code == 0 and "bob is now bookkeeper (granted by alice)" in out
    out = run(capsys, db, "users", "list")[1]
    assert "alice" in out and "bookkeeper" in out
    monkeypatch.setenv("LEDGERLINK_USER", "bob")
    code, _, err = run(capsys, db, "users", "grant", "bob", "admin")
    assert code == 1 and "Only an admin can grant roles" in err


def test_a_database_path_that_does_not_exist_is_refused_not_created(capsys, tmp_path):
    typo = tmp_path / "nested" / "frim.db"
    for args in (["status"], ["report", "aging"], ["map", "show"], ["sync"], ["reconcile"], ["users", "list"]):
        code, out, err = run(capsys, typo, *args)
        assert code == 1, args
        assert f"There is no firm database at {typo}" in err and "ledgerlink init --country" in err
    code, out, _ = run(capsys, typo, "status", "--json")
    assert code == 1 and json.loads(out)["ok"] is False
    assert not typo.parent.exists()
    code, out, _ = run(capsys, typo, "init", "--country", "US")
    assert code == 0 and typo.exists()
    assert run(capsys, typo, "status")[0] == 0


def test_report_as_of_is_checked(capsys, tmp_path):
    db = tmp_path / "f.db"
    run(capsys, db, "init", "--country", "US")
    code, out, err = run(capsys, db, "report", "aging", "--as-of", "11/29/2026")
    assert code == 1 and "--as-of '11/29/2026' is not a date: write it as YYYY-MM-DD" in err
    assert "Traceback" not in err
    code, out, _ = run(capsys, db, "report", "aging", "--as-of", "2026-02-30", "--json")
    assert code == 1 and "is not a date: that month has no such day" in json.loads(out)["error"]
    code, _, err = run(capsys, db, "report", "trust", "--as-of", "2026-01-31")
    assert code == 1 and "--as-of applies to the aging report only" in err
    code, out, _ = run(capsys, db, "report", "aging", "--as-of", "2026-01-31", "--json")
    assert code == 0 and json.loads(out)["as_of"] == "2026-01-31"


def test_init_over_a_firm_says_what_to_do(capsys, tmp_path):
    db = tmp_path / "f.db"
    run(capsys, db, "init", "--country", "US", "--name", "Hartley & Quinn")
    code, _, err = run(capsys, db, "init", "--country", "US")
    assert code == 1 and "already holds a firm (Hartley & Quinn)" in err and "--db" in err


def test_a_closed_pipe_ends_the_command_quietly(capsys, tmp_path, monkeypatch):
    import io
    import os

    db = tmp_path / "f.db"
    run(capsys, db, "init", "--country", "US")

    class ClosedPipe(io.StringIO):
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

        def fileno(self):
            return self._fd

    read_end, write_end = os.pipe()
    pipe = ClosedPipe()
    pipe._fd = os.dup(write_end)
    monkeypatch.setattr("sys.stdout", pipe)
    try:
        code = main(["--db", str(db), "report", "trial-balance"])
    finally:
        for fd in (read_end, write_end, pipe._fd):
            os.close(fd)
    assert code == 141


def test_counts_read_as_words(capsys, tmp_path):
    db = tmp_path / "f.db"
    code, out, _ = run(capsys, db, "demo", "--country", "US", "--clients", "1", "--invoices", "1", "--payments", "1",
                       "--credits", "1", "--seed", "3")
    assert code == 0 and "1 client, " in out and "1 invoice, " in out and "1 payment, " in out
    assert "1 deletion." in out and "0 credit notes" in out
    clients = tmp_path / "clients.csv"
    clients.write_text("name,email,phone,address,matter\nSolo Client,,,,\n")
    code, out, _ = run(capsys, db, "import", "clients", str(clients))
    assert code == 0 and f"Imported 1 client from {clients}." in out


def test_invoices_name_the_matter_the_clients_file_opened(capsys, tmp_path):
    db = tmp_path / "f.db"
    run(capsys, db, "init", "--country", "US")
    clients = tmp_path / "clients.csv"
    clients.write_text("name,email,phone,address,matter\nAcme Corp,,,,Acme v Beta\nBrown Family,,,,Brown estate\n")
    assert run(capsys, db, "import", "clients", str(clients))[0] == 0
    head = "number,client,matter,date,due_date,description,account_code,quantity,unit_price,tax_rate\n"
    invoices = tmp_path / "invoices.csv"
    invoices.write_text(head + "M-2,Brown Family,Acme v Beta,2026-03-01,,Filing,4000,1,10,No Sales Tax (0%)\n")
    code, _, err = run(capsys, db, "import", "invoices", str(invoices))
    assert code == 1 and "no matter with reference 'Acme v Beta' or named so for client 'Brown Family'" in err
    invoices.write_text(head + "M-1,Acme Corp,Acme v Beta,2026-03-01,,Research,4000,2,150,No Sales Tax (0%)\n"
                               "M-2,Brown Family,Brown estate,2026-03-01,,Filing,4000,1,10,No Sales Tax (0%)\n")
    code, out, err = run(capsys, db, "import", "invoices", str(invoices))
    assert code == 0, err
    assert "Imported 2 invoices" in out
    from core.services.context import open_firm
    from core.settings import Settings

    firm = open_firm(Settings(_env_file=None, db=db))
    try:
        rows = firm.db.execute("SELECT i.number, m.name FROM invoices i JOIN matters m ON m.id = i.matter_id "
                               "ORDER BY i.number").fetchall()
    finally:
        firm.close()
    assert rows == [("M-1", "Acme v Beta"), ("M-2", "Brown estate")]


def test_setup_steps_from_the_command_line(capsys, tmp_path):
    db = tmp_path / "f.db"
    run(capsys, db, "init", "--country", "UK", "--name", "Smith Solicitors")
    steps = lambda: {s["id"]: s["ok"] for s in json.loads(run(capsys, db, "status", "--json")[1])["steps"]}  # noqa: E731
    assert not steps()["bank_account"] and not steps()["trust_accounting"] and not steps()["feature_preview"]

    code, _, err = run(capsys, db, "setup", "bank", "trust", "Client Account", "--account", "1000", "--bank", "HSBC")
    assert code == 1 and "is not a trust bank account" in err
    code, out, _ = run(capsys, db, "setup", "bank", "operating", "Office", "--account", "1000", "--bank", "Barclays")
    assert code == 0 and "Added the operating bank account Office" in out
    code, _, err = run(capsys, db, "setup", "bank", "operating", "Office 2", "--account", "9999", "--bank", "Lloyds")
    assert code == 1 and "There is no account with code 9999" in err
    assert run(capsys, db, "setup", "no-client-money")[0] == 0
    assert run(capsys, db, "setup", "preview", "on")[0] == 0
    code, _, err = run(capsys, db, "setup", "tax-rate", "Odd", "5.5.5")
    assert code == 1 and "'5.5.5' is not a percentage" in err
    code, out, _ = run(capsys, db, "setup", "tax-rate", "Hotel rate", "12.5")
    assert code == 0 and "Added the tax rate Hotel rate (12.5%)" in out

    done = steps()
    assert done["bank_account"] and done["trust_accounting"] and done["feature_preview"] and done["sales_tax"]
    from core.services.context import open_firm
    from core.services.ledger import list_contacts
    from core.settings import Settings

    firm = open_firm(Settings(_env_file=None, db=db))
    try:
        assert [c.name for c in list_contacts(firm, "bank")] == ["Barclays"]  # refused accounts left no bank behind
    finally:
        firm.close()


def test_status_fits_80_columns_and_names_the_commands(capsys, tmp_path):
    db = tmp_path / "f.db"
    run(capsys, db, "init", "--country", "UK")
    code, out, _ = run(capsys, db, "status")
    assert code == 0 and max(len(line) for line in out.splitlines()) <= 80
    text = " ".join(line.strip() for line in out.splitlines())
    assert "Open Setup › Bank accounts (or `ledgerlink setup bank operating NAME --account CODE --bank BANK`)." in text
    assert "`ledgerlink setup no-client-money`" in text and "`ledgerlink sync enable`" in text
    assert all(line.count("`") % 2 == 0 for line in out.splitlines())  # a command is never split over lines
    assert "`" not in next(line for line in out.splitlines() if line.startswith("[x] Accounting method"))


def test_status_json_gives_each_step_its_fix_as_data(capsys, tmp_path):
    db = tmp_path / "f.db"
    run(capsys, db, "init", "--country", "UK")
    code, out, _ = run(capsys, db, "status", "--json")
    steps = {s["id"]: s for s in json.loads(out)["steps"]}
    assert steps["bank_account"]["fix"] == {"screen": "setup", "tab": "bank_accounts", "key": None, "row": None,
                                            "command": "ledgerlink setup bank operating NAME --account CODE --bank BANK"}
    assert steps["bank_account"]["message"].endswith(
        "Open Setup › Bank accounts (or `ledgerlink setup bank operating NAME --account CODE --bank BANK`).")
    assert steps["accrual_method"]["state"] == "done" and "Open" not in steps["accrual_method"]["message"]
    assert steps["sync_enabled"]["fix"]["tab"] == "sync" and steps["qbo_connected"]["fix"]["screen"] == "connect"


def test_command_line_mistakes_suggest_and_answer_json_when_asked(capsys, tmp_path):
    import pytest

    db = tmp_path / "f.db"
    with pytest.raises(SystemExit) as exit_:
        main(["--db", str(db), "inti", "--country", "US"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "invalid choice: 'inti'" in err and "did you mean 'init'?" in err
    with pytest.raises(SystemExit) as exit_:
        main(["--db", str(db), "report", "agin", "--json"])
    out = capsys.readouterr().out
    answer = json.loads(out)
    assert exit_.value.code == 2 and answer["ok"] is False and "did you mean 'aging'?" in answer["error"]
    assert answer["usage"].startswith("usage: ledgerlink report")


def test_a_file_that_is_not_a_database_is_a_message(capsys, tmp_path):
    notes = tmp_path / "clients.csv"
    notes.write_text("name,email\nAcme,a@example.test\n" * 200)
    before = notes.read_bytes()
    for args in (["status"], ["init", "--country", "US"], ["report", "trust", "--json"]):
        code, out, err = run(capsys, notes, *args)
        assert code == 1 and "Traceback" not in err
        assert f"The database {notes} cannot be used (file is not a database)" in err and "--db" in err
    assert json.loads(out)["ok"] is False
    assert notes.read_bytes() == before


def import_text(capsys, db, tmp_path, kind: str, text: str) -> tuple[int, str]:
    path = tmp_path / f"{kind}.csv"
    path.write_text(text)
    code, _, err = run(capsys, db, "import", kind, str(path))
    return code, err


def test_a_mistyped_name_in_a_csv_gets_the_close_one(capsys, tmp_path):
    db = tmp_path / "f.db"
    run(capsys, db, "demo", "--country", "US", "--clients", "2", "--invoices", "2", "--payments", "0", "--credits", "0")
    assert import_text(capsys, db, tmp_path, "clients", "name,email,phone,address,matter\nAcme Corp,,,,\n")[0] == 0
    code, err = import_text(
        capsys, db, tmp_path, "invoices",
        "number,client,matter,date,due_date,description,account_code,quantity,unit_price,tax_rate\n"
        "T-1,Acme Crop,,2026-03-01,,Advice,4000,1,100,No Sales Tax 0%\n")
    assert code == 1 and "there is no client named 'Acme Crop': did you mean 'Acme Corp'?" in err
    assert "there is no tax rate named 'No Sales Tax 0%': did you mean 'No Sales Tax (0%)'?" in err
    code, err = import_text(capsys, db, tmp_path, "payments",
                            "client,date,amount,bank_account,invoice_number,reference\n"
                            "Acme Corp,2026-03-05,10,Operating acount (First National Bank),,\n")
    assert code == 1 and "did you mean 'Operating account (First National Bank)'?" in err


def test_demo_data_does_not_go_into_a_firm_that_has_clients(capsys, tmp_path):
    db = tmp_path / "f.db"
    run(capsys, db, "init", "--country", "US", "--name", "Real Firm LLP")
    assert import_text(capsys, db, tmp_path, "clients", "name,email,phone,address,matter\nReal Client,,,,\n")[0] == 0
    before = run(capsys, db, "report", "aging", "--json")[1]
    code, _, err = run(capsys, db, "demo", "--clients", "2", "--invoices", "2")
    assert code == 1 and "holds Real Firm LLP with 1 client: demo data would mix with its records" in err
    assert "--db" in err and run(capsys, db, "report", "aging", "--json")[1] == before
    fresh = tmp_path / "after-init.db"
    run(capsys, fresh, "init", "--country", "US")
    assert run(capsys, fresh, "demo", "--clients", "2", "--invoices", "2", "--payments", "0", "--credits", "0")[0] == 0


def test_demo_sizes_are_checked(capsys, tmp_path):
    import pytest

    db = tmp_path / "demo.db"
    with pytest.raises(SystemExit) as exit_:
        main(["--db", str(db), "demo", "--clients", "-2"])
    assert exit_.value.code == 2 and "'-2' is not a whole number (0 or more)" in capsys.readouterr().err
    code, out, err = run(capsys, db, "demo", "--clients", "0", "--invoices", "3")
    assert code == 1 and "need clients: give --clients 1 or more" in err and not db.exists()


def test_a_payment_row_with_an_unknown_name_still_has_its_other_mistakes_named(capsys, tmp_path):
    db = tmp_path / "f.db"
    run(capsys, db, "demo", "--country", "US", "--clients", "2", "--invoices", "2", "--payments", "0", "--credits", "0")
    code, err = import_text(capsys, db, tmp_path, "payments",
                            "client,date,amount,bank_account,invoice_number,reference\n"
                            "Nobody At All,2026/03/05,1.2.3,Operating account (First National Bank),,\n")
    assert code == 1 and "3 problems" in err
    assert "row 2, column client: there is no client named 'Nobody At All'" in err
    assert "row 2, column date: date: '2026/03/05' is not a date (use YYYY-MM-DD)" in err
    assert "row 2, column amount: amount: '1.2.3' is not a number" in err
