"""The seeded companies, one per country, as a client sees them over HTTP."""

from __future__ import annotations

import uuid

import httpx
import pytest

from core.sandbox.served import running_sandbox
from tests.sandbox.conftest import Api, connect


@pytest.mark.parametrize("country", ["US", "CA", "UK", "AU", "NZ"])
def test_each_country_has_a_realistic_company(sb, country):
    api = Api(sb, country)
    try:
        realm = sb.realm_ids[country]
        assert realm.isdigit() and realm.startswith("9341452")
        total = api.ok(api.query("select count(*) from Account"))["QueryResponse"]["totalCount"]
        assert total >= 120
        assert len(api.ok(api.query("select * from Account"))["QueryResponse"]["Account"]) == 100
        items = api.ok(api.query("select * from Item"))["QueryResponse"]["Item"]
        assert {i["Type"] for i in items} == {"Service", "NonInventory"}
        assert all(i["IncomeAccountRef"]["value"] and i["ExpenseAccountRef"]["value"] for i in items)
        rates = {r["Id"]: r for r in api.ok(api.query("select * from TaxRate"))["QueryResponse"]["TaxRate"]}
        codes = api.ok(api.query("select * from TaxCode"))["QueryResponse"]["TaxCode"]
        zero = [c for c in codes if c.get("SalesTaxRateList") and all(
            rates[d["TaxRateRef"]["value"]]["RateValue"] == 0 for d in c["SalesTaxRateList"]["TaxRateDetail"])]
        assert zero, "a zero-rate tax code"
        customers = api.ok(api.query("select * from Customer where DisplayName LIKE '%\\'%'"))["QueryResponse"]
        assert customers["Customer"], "a customer with an apostrophe"
        currency = api.ok(api.get("/preferences"))["Preferences"]["CurrencyPrefs"]["HomeCurrency"]["value"]
        assert currency == {"US": "USD", "CA": "CAD", "UK": "GBP", "AU": "AUD", "NZ": "NZD"}[country]
    finally:
        api.close()


def test_account_and_item_create_rules(us):
    name = f"Fee Income {uuid.uuid4().hex[:6]}"
    account = us.create("Account", {"Name": name, "AccountType": "Income", "AccountSubType": "ServiceFeeIncome"})
    assert account["Classification"] == "Revenue" and account["FullyQualifiedName"] == name
    assert us.fault(us.post("/account", {"Name": name, "AccountType": "Income"}))["code"] == "6240"
    assert us.fault(us.post("/account", {"Name": "No type"}))["code"] == "2020"
    item = us.create("Item", {"Name": f"Svc {uuid.uuid4().hex[:6]}", "Type": "Service",
                              "IncomeAccountRef": {"value": account["Id"]}, "UnitPrice": 275})
    assert item["IncomeAccountRef"] == {"value": account["Id"], "name": name}
    assert us.fault(us.post("/item", {"Name": item["Name"], "IncomeAccountRef": {"value": account["Id"]}}))["code"] == "6240"
    assert us.fault(us.post("/taxcode", {"Name": "Nope"}))["code"] == "500"


def test_lifetimes_credentials_and_no_zero_tax_are_options(tmp_path):
    with running_sandbox(tmp_path / "o.db", companies=["CA"], access_token_lifetime=60,
                         refresh_token_lifetime=120, client_id="app-1", client_secret="sec-1",
                         redirect_uri="https://example.test/cb", no_zero_tax=["CA"]) as sb:
        assert list(sb.realm_ids) == ["CA"] and sb.client_id == "app-1"
        tokens = connect(sb, "CA")
        assert tokens["expires_in"] == 60 and tokens["x_refresh_token_expires_in"] == 120
        sb.state.advance(121)
        r = httpx.post(sb.base_url + "/oauth2/v1/tokens/bearer", auth=("app-1", "sec-1"),
                       data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
        assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
        assert all(rate["RateValue"] != 0 for rate in sb.state.entities(sb.realm_ids["CA"], "TaxRate"))


def test_taxservice_creates_a_zero_rate_code_where_none_was_seeded(tmp_path):
    with running_sandbox(tmp_path / "t.db", companies=["AU"], no_zero_tax=True) as sb:
        api = Api(sb, "AU")
        try:
            body = {"TaxCode": "GST free (new)", "TaxRateDetails": [
                {"TaxRateName": "GST free 0%", "RateValue": 0, "TaxAgencyId": "1", "TaxApplicableOn": "Sales"}]}
            made = api.ok(api.post("/taxservice/taxcode", body))
            assert made["TaxCode"] == "GST free (new)" and made["TaxRateDetails"][0]["RateValue"] == 0
            code = api.ok(api.get(f"/taxcode/{made['TaxCodeId']}"))["TaxCode"]
            assert code["Taxable"] is False
            rate_id = code["SalesTaxRateList"]["TaxRateDetail"][0]["TaxRateRef"]["value"]
            assert rate_id == made["TaxRateDetails"][0]["TaxRateId"]
            again = api.fault(api.post("/taxservice/taxcode", {**body, "TaxCode": "Another"}))
            assert again["code"] == "6240" and "tax rate" in again["Detail"]
        finally:
            api.close()


def test_a_state_file_seeded_before_tax_agencies_still_works(tmp_path):
    from core.sandbox import entities
    from core.sandbox.store import SandboxState

    state = SandboxState(tmp_path / "old.db", companies=["UK"])
    with state.atomic():
        state.db.execute("DELETE FROM entities WHERE type = 'TaxAgency'")
    company = state.company(state.realm_ids["UK"])
    company.rows["TaxAgency"].clear()  # as the previous release left it: no agencies
    try:
        assert not company.all("TaxAgency") and company.settings["sparse_line"] == "refuse"
        with state.atomic():
            made = entities.create_tax_code(company, {"TaxCode": "Old 12", "TaxRateDetails": [
                {"TaxRateName": "Old 12 rate", "RateValue": "12", "TaxAgencyId": "1", "TaxApplicableOn": "Sales"}]})
            inv = entities.write(company, "Invoice", "create", {
                "CustomerRef": {"value": "1"}, "GlobalTaxCalculation": "TaxExcluded",
                "Line": [{"Amount": 50, "DetailType": "SalesItemLineDetail",
                          "SalesItemLineDetail": {"ItemRef": {"value": "2"}, "TaxCodeRef": {"value": made["TaxCodeId"]}}}]})
        assert inv["TxnTaxDetail"]["TotalTax"] == 6
        vat = next(a for a in state.entities(company.realm, "Account") if a["Name"] == "VAT Control")
        assert vat["CurrentBalance"] == -6
    finally:
        state.close()


def test_a_company_from_an_older_seed_gets_the_new_tax_codes_on_start(tmp_path):
    from core.sandbox.store import SandboxState

    state = SandboxState(tmp_path / "ca.db", companies=["CA"])
    realm = state.realm_ids["CA"]
    with state.atomic():
        for name in ("GST/QST QC", "QST Sales", "QST Payable", "Revenu Québec"):
            state.db.execute("DELETE FROM entities WHERE realm = ? AND json_extract(data, '$.Name') = ?"
                             " OR json_extract(data, '$.DisplayName') = ?", (realm, name, name))
    state.close()
    state = SandboxState(tmp_path / "ca.db", companies=["CA"])
    try:
        codes = {c["Name"]: c for c in state.entities(realm, "TaxCode")}
        assert "GST/QST QC" in codes and len(codes) == 10
        rates = {r["Id"]: r for r in state.entities(realm, "TaxRate")}
        qc = [rates[d["TaxRateRef"]["value"]]["Name"] for d in codes["GST/QST QC"]["SalesTaxRateList"]["TaxRateDetail"]]
        assert qc == ["GST (ITC)", "QST Sales"]
        assert sum(1 for a in state.entities(realm, "Account") if a["Name"] == "QST Payable") == 1
    finally:
        state.close()
