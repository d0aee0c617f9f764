"""Seeding a company from data/sandbox/<CC>/seed.json through the same rules the API applies."""

from __future__ import annotations

import json

from core import paths
from typing import Any

from core.sandbox import jsonfmt, names
from core.sandbox.common import meta
from core.sandbox.company import Company

PSEUDO_STAMP = "2014-10-15T11:28:33-07:00"


def load_seed(country: str) -> dict:
    return json.loads((paths.sandbox_seed_dir(country) / "seed.json").read_text(), parse_float=jsonfmt.number)


def _system(company: Company, etype: str, record: dict, eid: str | None = None) -> dict:
    stamp = jsonfmt.stamp()
    record.update(domain="QBO", sparse=False, Id=eid or company.next_id(etype), SyncToken="0",
                  MetaData=meta(stamp))
    company.put(etype, record)
    return record


def seed_company(state: Any, country: str, *, no_zero_tax: bool = False) -> Company:
    """Create one company (caller holds state.atomic())."""
    seed = load_seed(country)
    company = state.add_company(seed["realm_id"], country, seed["company_name"], no_zero_tax)
    _company_info(company, seed)
    by_name: dict[str, dict] = {}
    for row in seed["accounts"]:
        body = {k: v for k, v in row.items() if k != "Parent"}
        if row.get("Parent"):
            body["ParentRef"] = {"value": by_name[row["Parent"]]["Id"]}
        record = names.build_account(company, body, None)
        by_name[row["Name"]] = _system(company, "Account", record)
    _tax(company, seed["tax"], no_zero_tax)
    for row in seed["items"]:
        body = {"Name": row["Name"], "Type": row["Type"], "Description": row["Description"],
                "UnitPrice": jsonfmt.number(row["UnitPrice"]),
                "IncomeAccountRef": {"value": by_name[row["Income"]]["Id"]},
                "ExpenseAccountRef": {"value": by_name[row["Expense"]]["Id"]}}
        _system(company, "Item", names.build_item(company, body, None))
    for row in seed["customers"]:
        _system(company, "Customer", names.build_customer(company, dict(row), None))
    return company


def _company_info(company: Company, seed: dict) -> None:
    addr = dict(seed["address"], Id="1")
    info = {
        "CompanyName": seed["company_name"],
        "LegalName": seed["company_name"],
        "CompanyAddr": addr,
        "CustomerCommunicationAddr": addr,
        "LegalAddr": addr,
        "PrimaryPhone": {},
        "CompanyStartDate": "2024-01-01",
        "FiscalYearStartMonth": "January" if company.country != "AU" and company.country != "NZ" else "July",
        "Country": "GB" if company.country == "UK" else company.country,
        "Email": {"Address": f"admin@sandbox-{company.country.lower()}.example"},
        "WebAddr": {},
        "SupportedLanguages": "en",
        "NameValue": [
            {"Name": "NeoEnabled", "Value": "true"},
            {"Name": "IndustryType", "Value": "Legal services"},
            {"Name": "IndustryCode", "Value": "541110"},
            {"Name": "SubscriptionStatus", "Value": "SUBSCRIBED"},
            {"Name": "OfferingSku", "Value": "QuickBooks Online Plus"},
            {"Name": "PayrollFeature", "Value": "false"},
        ],
    }
    _system(company, "CompanyInfo", info, "1")
    prefs = {
        "AccountingInfoPrefs": {"UseAccountNumbers": True, "TrackDepartments": False, "ClassTrackingPerTxn": False,
                                "ClassTrackingPerTxnLine": False, "FirstMonthOfFiscalYear": info["FiscalYearStartMonth"]},
        "SalesFormsPrefs": {"CustomTxnNumbers": False, "AllowDiscount": True, "AllowDeposit": False,
                            "AutoApplyCredit": True, "AutoApplyPayments": True, "DefaultTerms": {"value": "3"}},
        "TaxPrefs": {"UsingSalesTax": True},
        "CurrencyPrefs": {"MultiCurrencyEnabled": False, "HomeCurrency": {"value": company.currency()["value"]}},
        "ReportPrefs": {"ReportBasis": "Accrual", "CalcAgingReportFromTxnDate": False},
    }
    _system(company, "Preferences", prefs, "1")


def _tax(company: Company, tax: dict, no_zero_tax: bool) -> None:
    """The seed's tax agencies, rates and codes; what a company already has (by name) is kept as it is."""
    if company.us:
        for name, taxable in (("TAX", True), ("NON", False)):
            if company.get("TaxCode", name) is None:
                company.put("TaxCode", {"TaxGroup": False, "Name": name, "Taxable": taxable, "Description": name,
                                        "Id": name, "MetaData": meta(PSEUDO_STAMP)})

    def existing(etype: str, field: str, name: str) -> dict | None:
        return next((r for r in company.all(etype) if r.get(field) == name), None)

    agencies: dict[str, dict] = {}
    for name in [tax["agency"]] + [a for _, _, a in tax["rates"] if a]:
        if name not in agencies:
            agencies[name] = existing("TaxAgency", "DisplayName", name) or _system(company, "TaxAgency", {
                "DisplayName": name, "TaxTrackedOnSales": True, "TaxTrackedOnPurchases": not company.us})
    rates: dict[str, dict] = {}
    for name, value, agency in tax["rates"]:
        if no_zero_tax and jsonfmt.number(value) == 0:
            continue
        rates[name] = existing("TaxRate", "Name", name) or _system(company, "TaxRate", {
            "Name": name, "Description": agency or tax["agency"], "Active": True, "RateValue": jsonfmt.number(value),
            "AgencyRef": {"value": agencies[agency or tax["agency"]]["Id"]}, "SpecialTaxType": "NONE",
            "DisplayType": "ReadOnly"})
    for name, description, members in tax["codes"]:
        if any(m not in rates for m in members) or existing("TaxCode", "Name", name):
            continue
        # Components of a combined code are not compounded (no Canadian tax is, since QST 2013): TaxOrder 0.
        details = [{"TaxRateRef": {"value": rates[m]["Id"], "name": m}, "TaxTypeApplicable": "TaxOnAmount",
                    "TaxOrder": 0} for m in members]
        taxable = any(jsonfmt.number(rates[m]["RateValue"]) != 0 for m in members)
        _system(company, "TaxCode", {
            "Name": name, "Description": description, "Active": True, "Taxable": taxable, "TaxGroup": True,
            "SalesTaxRateList": {"TaxRateDetail": details}, "PurchaseTaxRateList": {"TaxRateDetail": []}})


def top_up(company: Company) -> None:
    """Give a company made from an older seed what the seed has gained since (accounts, tax agencies, rates and
    codes, by name), as Intuit adds new tax codes to existing companies (caller holds state.atomic())."""
    seed = load_seed(company.country)
    for row in seed["accounts"]:
        full = f"{row['Parent']}:{row['Name']}" if row.get("Parent") else row["Name"]
        if company.find("Account", full) is None:
            body = {k: v for k, v in row.items() if k != "Parent"}
            if row.get("Parent"):
                body["ParentRef"] = {"value": company.find("Account", row["Parent"])}
            _system(company, "Account", names.build_account(company, body, None))
    _tax(company, seed["tax"], company.no_zero_tax)
