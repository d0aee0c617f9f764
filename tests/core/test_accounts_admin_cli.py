"""`ledgerlink accounts ...` and `ledgerlink tax-rates ...`: the chart after set-up from the command line; refusals
exit 1 with the ledger's message (no traceback) and write nothing."""

from __future__ import annotations

import json

import pytest

from core.cli import main


def run(capsys, *args) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def db(tmp_path, capsys) -> str:
    path = str(tmp_path / "f.db")
    assert run(capsys, "demo", "--db", path, "--country", "CA", "--clients", "2", "--invoices", "3", "--payments", "1",
               "--credits", "0", "--seed", "3")[0] == 0
    return path


def accounts(capsys, db) -> dict:
    code, out, err = run(capsys, "accounts", "list", "--json", "--db", db)
    assert code == 0, err
    return {a["code"]: a for a in json.loads(out)["accounts"]}


def test_accounts_add_rename_deactivate_reactivate_and_delete(capsys, db):
    code, out, err = run(capsys, "accounts", "add", "4990", "Fees - Mediation", "--type", "Income", "--subtype",
                         "fee_income", "--db", db)
    assert code == 0, err
    assert "Added the account 4990 Fees - Mediation (Income, fee_income)" in out and "map set sales 4990" in out
    row = accounts(capsys, db)["4990"]
    assert row == {**row, "active": True, "used": False, "map": "sales", "map_status": "unmapped"}

    code, out, err = run(capsys, "accounts", "add", "4990", "Again", "--type", "Income", "--db", db)
    assert code == 1 and "code: Account code 4990 is already used by 4990 Fees - Mediation" in err
    code, _, err = run(capsys, "accounts", "add", "4991", "X", "--type", "Incom", "--db", db)
    assert code == 1 and "type: 'Incom' is not an account type" in err and "Traceback" not in err

    code, out, _ = run(capsys, "accounts", "rename", "4990", "Mediation fees", "--db", db)
    assert code == 0 and "Renamed 4990 Fees - Mediation to 4990 Mediation fees." in out
    code, out, _ = run(capsys, "accounts", "deactivate", "4990", "--db", db)
    assert code == 0 and "Account 4990 Mediation fees deactivated." in out
    code, out, _ = run(capsys, "accounts", "list", "--active", "--db", db)
    assert "4990" not in out and "Code" in out
    code, out, _ = run(capsys, "accounts", "reactivate", "4990", "--db", db, "--json")
    assert code == 0 and json.loads(out)["account"]["active"] is True
    code, out, _ = run(capsys, "accounts", "delete", "4990", "--db", db)
    assert code == 0 and "deleted" in out
    assert "4990" not in accounts(capsys, db)


def test_a_used_account_is_refused_with_what_uses_it(capsys, db):
    used = next(a for a in accounts(capsys, db).values() if a["subtype"] == "fee_income" and a["used"])
    code, out, err = run(capsys, "accounts", "delete", used["code"], "--db", db, "--json")
    assert code == 1
    answer = json.loads(out)
    assert answer["ok"] is False and "cannot be deleted: it is used by" in answer["error"]
    assert "posted journal line" in answer["error"] and "Deactivate it instead" in answer["error"]
    assert used["code"] in accounts(capsys, db)


def test_tax_rates_list_add_with_components_rename_deactivate_and_the_frozen_percentage(capsys, db):
    code, out, err = run(capsys, "tax-rates", "list", "--json", "--db", db)
    assert code == 0, err
    rates = {r["name"]: r for r in json.loads(out)["tax_rates"]}
    used = next(r for r in rates.values() if r["used"] and r["rate_percent"] != "0")
    assert any(len(r["components"]) == 2 for r in rates.values())  # CA's GST/PST rates

    code, _, err = run(capsys, "tax-rates", "add", "Island tax", "9", "--component", "GST:5:2200",
                       "--component", "IST:3:2200", "--db", db)
    assert code == 1 and "add up to 8%, not the rate's 9%" in err
    code, _, err = run(capsys, "tax-rates", "add", "Island tax", "9", "--component", "GST:5:2200",
                       "--component", "IST:4", "--db", db)
    assert code == 1 and "component 2 (IST) has no liability account" in err
    code, out, err = run(capsys, "tax-rates", "add", "Island tax", "9", "--component", "GST:5:2200",
                         "--component", "IST:4:2200", "--db", db)
    assert code == 0 and "Added the tax rate Island tax (9%: GST 5% + IST 4%)" in out, err
    code, out, _ = run(capsys, "tax-rates", "list", "--db", db)
    assert "= GST 5% + IST 4%" in out

    code, _, err = run(capsys, "tax-rates", "change", used["name"], "99", "--db", db)
    assert code == 1 and "its percentage" in err and "Deactivate it and add a new rate of 99% instead" in err
    code, out, _ = run(capsys, "tax-rates", "change", "Island tax", "10", "--component", "GST:5:2200",
                       "--component", "IST:5:2200", "--db", db)
    assert code == 0 and "Island tax is now 10%" in out
    code, out, _ = run(capsys, "tax-rates", "rename", "Island tax", "Island (10%)", "--db", db)
    assert code == 0 and "Renamed the tax rate Island tax to Island (10%)." in out
    code, out, _ = run(capsys, "tax-rates", "deactivate", "Island (10%)", "--db", db, "--json")
    assert code == 0 and json.loads(out)["tax_rate"]["active"] is False
    code, _, err = run(capsys, "tax-rates", "rename", "Nope", "X", "--db", db)
    assert code == 1 and "There is no tax rate named 'Nope'" in err
