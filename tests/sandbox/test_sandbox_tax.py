"""Tax as QBO works it out per edition (reference 5.13, 5.14), over HTTP and as a pure function."""

from __future__ import annotations

import uuid
from decimal import Decimal as D

import pytest

from core.sandbox.tax import compute_tax
from tests.sandbox.conftest import settings_of


def _line(amount, tax=None, item="2"):
    detail = {"ItemRef": {"value": item}}
    if tax:
        detail["TaxCodeRef"] = {"value": tax}
    return {"Amount": amount, "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": detail}


def _customer(api):
    return api.create("Customer", {"DisplayName": f"Tax {uuid.uuid4().hex[:8]}"})["Id"]


def _codes(api) -> dict[str, str]:
    rows = api.ok(api.query("select * from TaxCode MAXRESULTS 1000"))["QueryResponse"]["TaxCode"]
    return {c["Name"]: c["Id"] for c in rows}


def _group(api, name="Sample State"):
    return {"TxnTaxCodeRef": {"value": _codes(api)[name]}}


def test_pure_function_us_per_rate_on_subtotal_and_non_us_per_line():
    two = [(D("1.20"), [D("6.25")]), (D("1.20"), [D("6.25")])]
    assert compute_tax("US", two).total == D("0.15")  # 2.40 x 6.25% = 0.15
    assert compute_tax("non-US", two).total == D("0.16")  # 0.075 -> 0.08 per line
    bc = compute_tax("non-US", [(D("1250.05"), [D("5"), D("7")])])
    assert [(r.percent, r.tax) for r in bc.rates] == [(D("5"), D("62.50")), (D("7"), D("87.50"))]
    assert bc.total == D("150.00") and bc.rates[0].net == D("1250.05")
    assert compute_tax("US", [(D("2.00"), [D("6.25")])]).total == D("0.13")
    assert compute_tax("US", [(D("2.00"), [D("6.25")])], rounding="half-even").total == D("0.12")
    assert compute_tax("US", [(D("5"), [])]).total == 0
    with pytest.raises(ValueError):
        compute_tax("CA", two)  # type: ignore[arg-type]


def test_us_tax_is_per_rate_on_the_taxable_subtotal(us):
    inv = us.create("Invoice", {"CustomerRef": {"value": _customer(us)}, "TxnTaxDetail": _group(us),
                                "Line": [_line(1.20, "TAX"), _line(1.20, "TAX"), _line(5, "NON")]})
    assert inv["TxnTaxDetail"]["TotalTax"] == 0.15 and inv["TotalAmt"] == 7.55
    assert inv["TxnTaxDetail"]["TaxLine"][0]["TaxLineDetail"]["NetAmountTaxable"] == 2.4


def test_total_tax_zero_without_tax_lines_means_compute(us):
    # exactly what python-quickbooks sends for every taxed invoice
    inv = us.create("Invoice", {"CustomerRef": {"value": _customer(us)},
                                "TxnTaxDetail": {**_group(us), "TotalTax": 0, "TaxLine": []},
                                "Line": [_line(100, "TAX")]})
    assert inv["TxnTaxDetail"]["TotalTax"] == 6.25 and inv["TotalAmt"] == 106.25


def test_half_even_rounding_is_a_company_setting(us):
    body = {"TxnTaxDetail": _group(us), "Line": [_line(2, "TAX")]}
    assert us.create("Invoice", {"CustomerRef": {"value": _customer(us)}, **body})["TxnTaxDetail"]["TotalTax"] == 0.13
    settings_of(us)["tax_rounding"] = "half-even"
    assert us.create("Invoice", {"CustomerRef": {"value": _customer(us)}, **body})["TxnTaxDetail"]["TotalTax"] == 0.12


def _supplied(rate_id: str, amount) -> dict:
    return {"TaxLine": [{"Amount": amount, "DetailType": "TaxLineDetail",
                         "TaxLineDetail": {"TaxRateRef": {"value": rate_id}}}]}


def test_client_tax_lines_are_ignored_unless_the_company_honours_overrides(us):
    computed = us.create("Invoice", {"CustomerRef": {"value": _customer(us)}, "TxnTaxDetail": _group(us),
                                     "Line": [_line(1.20, "TAX"), _line(1.20, "TAX")]})
    rate_id = computed["TxnTaxDetail"]["TaxLine"][0]["TaxLineDetail"]["TaxRateRef"]["value"]
    body = {"TxnTaxDetail": {**_group(us), "TotalTax": 0.16, **_supplied(rate_id, 0.16)},
            "Line": [_line(1.20, "TAX"), _line(1.20, "TAX")]}
    ignored = us.create("Invoice", {"CustomerRef": {"value": _customer(us)}, **body})
    assert ignored["TxnTaxDetail"]["TotalTax"] == 0.15 and ignored["TotalAmt"] == 2.55
    assert "OverrideDeltaAmount" not in ignored["TxnTaxDetail"]["TaxLine"][0]["TaxLineDetail"]
    settings_of(us)["tax_overrides"] = True
    kept = us.create("Invoice", {"CustomerRef": {"value": _customer(us)}, **body})
    assert kept["TxnTaxDetail"]["TotalTax"] == 0.16 and kept["TotalAmt"] == 2.56
    assert kept["TxnTaxDetail"]["TaxLine"][0]["TaxLineDetail"]["OverrideDeltaAmount"] == -0.01  # computed - supplied
    read = us.ok(us.get(f"/invoice/{kept['Id']}"))["Invoice"]
    assert read["TxnTaxDetail"]["TaxLine"][0]["TaxLineDetail"]["OverrideDeltaAmount"] == -0.01


@pytest.mark.parametrize("overrides", [False, True])
def test_full_update_echoing_the_old_tax_detail_keeps_it_only_where_overrides_are_honoured(us, overrides):
    settings_of(us)["tax_overrides"] = overrides
    cust = _customer(us)
    inv = us.create("Invoice", {"CustomerRef": {"value": cust}, "TxnTaxDetail": _group(us), "Line": [_line(100, "TAX")]})
    assert inv["TxnTaxDetail"]["TotalTax"] == 6.25
    echoed = us.create("Invoice", {"Id": inv["Id"], "SyncToken": "0", "CustomerRef": {"value": cust},
                                   "TxnTaxDetail": inv["TxnTaxDetail"], "Line": [_line(200, "TAX")]})
    assert echoed["TxnTaxDetail"]["TotalTax"] == (6.25 if overrides else 12.5)
    rebuilt = us.create("Invoice", {"Id": inv["Id"], "SyncToken": "1", "CustomerRef": {"value": cust},
                                    "TxnTaxDetail": _group(us), "Line": [_line(200, "TAX")]})
    assert rebuilt["TxnTaxDetail"]["TotalTax"] == 12.5 and rebuilt["TotalAmt"] == 212.5


def test_ca_combined_codes_tax_each_component_on_its_own(ca):
    codes = _codes(ca)
    assert {"GST/PST BC", "GST/PST MB", "GST/PST SK", "GST/QST QC"} <= set(codes)
    inv = ca.create("Invoice", {"CustomerRef": {"value": _customer(ca)}, "GlobalTaxCalculation": "TaxExcluded",
                                "Line": [_line(1250.05, codes["GST/PST BC"])]})
    assert [t["Amount"] for t in inv["TxnTaxDetail"]["TaxLine"]] == [62.5, 87.5]
    assert inv["TxnTaxDetail"]["TotalTax"] == 150 and inv["TotalAmt"] == 1400.05
    qc = ca.create("Invoice", {"CustomerRef": {"value": _customer(ca)}, "GlobalTaxCalculation": "TaxExcluded",
                               "Line": [_line(100, codes["GST/QST QC"]), _line(0.10, codes["GST/QST QC"])]})
    # QST 9.975%: 9.975 -> 9.98 and 0.009975 -> 0.01; GST 5.00 + 0.01
    assert [t["Amount"] for t in qc["TxnTaxDetail"]["TaxLine"]] == [5.01, 9.99]


def test_ca_combined_codes_have_a_rate_and_agency_per_component(ca):
    codes = ca.ok(ca.query("select * from TaxCode where Name = 'GST/PST SK'"))["QueryResponse"]["TaxCode"]
    details = codes[0]["SalesTaxRateList"]["TaxRateDetail"]
    rates = [ca.ok(ca.get(f"/taxrate/{d['TaxRateRef']['value']}"))["TaxRate"] for d in details]
    assert [r["RateValue"] for r in rates] == [5, 6]
    agencies = [ca.ok(ca.get(f"/taxagency/{r['AgencyRef']['value']}"))["TaxAgency"]["DisplayName"] for r in rates]
    assert agencies == ["Canada Revenue Agency", "Saskatchewan Finance"]
    assert all("TaxOrder" in d for d in details)


def test_uk_au_nz_codes_match_their_qbo_editions(sb):
    expected = {"UK": {"20.0% S": [20], "5.0% R": [5], "0.0% Z": [0], "Exempt": [0]},
                "AU": {"GST": [10], "GST free": [0]},
                "NZ": {"15% GST": [15], "Zero-rated": [0]}}
    for cc, codes in expected.items():
        realm = sb.realm_ids[cc]
        rates = {r["Id"]: r["RateValue"] for r in sb.state.entities(realm, "TaxRate")}
        have = {c["Name"]: [rates[d["TaxRateRef"]["value"]] for d in c["SalesTaxRateList"]["TaxRateDetail"]]
                for c in sb.state.entities(realm, "TaxCode")}
        assert {name: have.get(name) for name in codes} == codes, cc


def test_a_sparse_memo_edit_keeps_an_honoured_override_and_new_sparse_lines_recompute(us):
    settings_of(us)["tax_overrides"] = True
    settings_of(us)["sparse_line"] = "replace"
    computed = us.create("Invoice", {"CustomerRef": {"value": _customer(us)}, "TxnTaxDetail": _group(us),
                                     "Line": [_line(1.20, "TAX"), _line(1.20, "TAX")]})
    rate_id = computed["TxnTaxDetail"]["TaxLine"][0]["TaxLineDetail"]["TaxRateRef"]["value"]
    inv = us.create("Invoice", {"CustomerRef": {"value": _customer(us)}, "Line": [_line(1.20, "TAX"), _line(1.20, "TAX")],
                                "TxnTaxDetail": {**_group(us), **_supplied(rate_id, 0.16)}})
    memo = us.create("Invoice", {"Id": inv["Id"], "SyncToken": "0", "sparse": True, "PrivateNote": "memo"})
    assert memo["TxnTaxDetail"]["TotalTax"] == 0.16
    lines = us.create("Invoice", {"Id": inv["Id"], "SyncToken": "1", "sparse": True, "Line": [_line(100, "TAX")]})
    assert lines["TxnTaxDetail"]["TotalTax"] == 6.25 and lines["TxnTaxDetail"]["TxnTaxCodeRef"] == _group(us)["TxnTaxCodeRef"]


def test_a_rate_changed_in_qbo_after_mapping_changes_new_documents_only(sb, ca):
    codes = _codes(ca)
    before = ca.create("Invoice", {"CustomerRef": {"value": _customer(ca)}, "GlobalTaxCalculation": "TaxExcluded",
                                    "Line": [_line(100, codes["PST BC"])]})
    rate_id = before["TxnTaxDetail"]["TaxLine"][0]["TaxLineDetail"]["TaxRateRef"]["value"]
    try:
        changed = sb.state.set_tax_rate(ca.realm, rate_id, "8")
        assert changed["SyncToken"] == "1"
        after = ca.create("Invoice", {"CustomerRef": {"value": _customer(ca)}, "GlobalTaxCalculation": "TaxExcluded",
                                    "Line": [_line(100, codes["PST BC"])]})
        assert after["TxnTaxDetail"]["TotalTax"] == 8
        assert ca.ok(ca.get(f"/invoice/{before['Id']}"))["Invoice"]["TxnTaxDetail"]["TotalTax"] == 7
        with pytest.raises(ValueError):
            sb.state.set_tax_rate(ca.realm, rate_id, "101")
    finally:
        sb.state.set_tax_rate(ca.realm, rate_id, "7")
