"""Payments against open balances (reference 5.14), voids (1.2), and currency (5.12, 11 item 18)."""

from __future__ import annotations

import uuid

import pytest

from tests.sandbox.conftest import settings_of


def _line(amount, item="2"):
    return {"Amount": amount, "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": {"ItemRef": {"value": item}}}


def _customer(api, **extra):
    return api.create("Customer", {"DisplayName": f"Pay {uuid.uuid4().hex[:8]}", **extra})["Id"]


def _pay(api, cust, total, *applied):
    return {"CustomerRef": {"value": cust}, "TotalAmt": total,
            "Line": [{"Amount": amount, "LinkedTxn": [{"TxnId": inv, "TxnType": "Invoice"}]} for inv, amount in applied]}


def test_a_line_above_the_open_balance_is_6000_naming_the_invoice_and_amounts(us):
    cust = _customer(us)
    inv = us.create("Invoice", {"CustomerRef": {"value": cust}, "Line": [_line(100)]})
    us.create("Payment", _pay(us, cust, 40, (inv["Id"], 40)))
    err = us.fault(us.post("/payment", _pay(us, cust, 60.01, (inv["Id"], 60.01))))
    assert err["code"] == "6000"
    assert inv["DocNumber"] in err["Detail"] and "60.01" in err["Detail"] and "60.00" in err["Detail"]
    assert us.ok(us.get(f"/invoice/{inv['Id']}"))["Invoice"]["Balance"] == 60


def test_total_above_the_lines_is_unapplied_credit_on_the_customer(us):
    cust = _customer(us)
    inv = us.create("Invoice", {"CustomerRef": {"value": cust}, "Line": [_line(100)]})
    pay = us.create("Payment", _pay(us, cust, 130, (inv["Id"], 100)))
    assert pay["UnappliedAmt"] == 30
    assert us.ok(us.get(f"/invoice/{inv['Id']}"))["Invoice"]["Balance"] == 0
    assert us.ok(us.get(f"/customer/{cust}"))["Customer"]["Balance"] == -30
    sent_unapplied = us.create("Payment", {**_pay(us, cust, 10), "UnappliedAmt": 999})
    assert sent_unapplied["UnappliedAmt"] == 10  # read-only: the server's figure


def test_voiding_a_paid_invoice_moves_the_payment_to_unapplied(us):
    cust = _customer(us)
    inv = us.create("Invoice", {"CustomerRef": {"value": cust}, "Line": [_line(100)]})
    pay = us.create("Payment", _pay(us, cust, 100, (inv["Id"], 100)))
    voided = us.create("Invoice", {"Id": inv["Id"], "SyncToken": inv["SyncToken"]}, operation="void")
    assert voided["TotalAmt"] == 0 and voided["Balance"] == 0 and voided["PrivateNote"] == "Voided"
    after = us.ok(us.get(f"/payment/{pay['Id']}"))["Payment"]
    assert after["UnappliedAmt"] == 100 and after["TotalAmt"] == 100 and after["Line"] == []
    assert us.ok(us.get(f"/customer/{cust}"))["Customer"]["Balance"] == -100


def test_payment_void_by_update_include_void_and_credit_memo_has_no_void(us):
    cust = _customer(us)
    inv = us.create("Invoice", {"CustomerRef": {"value": cust}, "Line": [_line(50)]})
    pay = us.create("Payment", _pay(us, cust, 50, (inv["Id"], 50)))
    voided = us.create("Payment", {"Id": pay["Id"], "SyncToken": pay["SyncToken"], "sparse": True},
                       operation="update", include="void")
    assert voided["TotalAmt"] == 0 and voided["UnappliedAmt"] == 0
    assert us.ok(us.get(f"/invoice/{inv['Id']}"))["Invoice"]["Balance"] == 50
    memo = us.create("CreditMemo", {"CustomerRef": {"value": cust}, "Line": [_line(10)]})
    err = us.fault(us.post("/creditmemo", {"Id": memo["Id"], "SyncToken": "0"}, operation="void"))
    assert err["code"] == "500"


def test_preferences_carry_the_home_currency_and_the_multicurrency_switch(sb, uk):
    prefs = uk.ok(uk.get("/preferences"))["Preferences"]["CurrencyPrefs"]
    assert prefs == {"MultiCurrencyEnabled": False, "HomeCurrency": {"value": "GBP"}}
    sb.state.set_company_setting("UK", "multicurrency", "on")
    assert uk.ok(uk.get("/preferences"))["Preferences"]["CurrencyPrefs"]["MultiCurrencyEnabled"] is True
    assert settings_of(uk)["multicurrency"] is True
    for key, value in (("multicurrency", "maybe"), ("sparse_line", "merge"), ("no_such_setting", 1), ("metered_cap", -1)):
        with pytest.raises(ValueError):
            sb.state.set_company_setting(uk.realm, key, value)
    homes = {cc: sb.state.entity(realm, "Preferences", "1") for cc, realm in sb.realm_ids.items()}
    assert {cc: p["CurrencyPrefs"]["HomeCurrency"]["value"] for cc, p in homes.items()} == {
        "US": "USD", "CA": "CAD", "UK": "GBP", "AU": "AUD", "NZ": "NZD"}


def test_a_foreign_currency_without_multicurrency_is_6000_and_writes_nothing(us):
    cust = _customer(us)
    err = us.fault(us.post("/invoice", {"CustomerRef": {"value": cust}, "CurrencyRef": {"value": "CAD"},
                                        "Line": [_line(1130)]}))
    assert err["code"] == "6000" and "CAD" in err["Detail"] and err["element"] == "CurrencyRef"
    count = us.ok(us.query(f"select count(*) from Invoice where CustomerRef = '{cust}'"))["QueryResponse"]
    assert count["totalCount"] == 0
    assert us.fault(us.post("/customer", {"DisplayName": f"Cad {uuid.uuid4().hex[:6]}",
                                          "CurrencyRef": {"value": "CAD"}}))["code"] == "6000"
    same = us.create("Invoice", {"CustomerRef": {"value": cust}, "CurrencyRef": {"value": "USD"}, "Line": [_line(10)]})
    assert same["CurrencyRef"] == {"value": "USD", "name": "United States Dollar"} and "HomeTotalAmt" not in same


def test_multicurrency_needs_a_positive_exchange_rate_and_computes_home_amounts(us):
    settings_of(us)["multicurrency"] = True
    cust = _customer(us, CurrencyRef={"value": "CAD"})
    body = {"CustomerRef": {"value": cust}, "CurrencyRef": {"value": "CAD"}, "Line": [_line(1130)]}
    assert us.fault(us.post("/invoice", body))["code"] == "2020"
    assert us.fault(us.post("/invoice", {**body, "ExchangeRate": 0}))["code"] == "6000"
    assert us.fault(us.post("/invoice", {**body, "ExchangeRate": -1}))["code"] == "6000"
    inv = us.create("Invoice", {**body, "ExchangeRate": 0.7315})
    assert inv["TotalAmt"] == 1130 and inv["HomeTotalAmt"] == 826.6 and inv["HomeBalance"] == 826.6
    wrong = us.fault(us.post("/invoice", {**body, "CurrencyRef": {"value": "USD"}}))
    assert wrong["code"] == "6000"  # the customer's currency is CAD
    pay = us.create("Payment", {**_pay(us, cust, 565, (inv["Id"], 565)), "CurrencyRef": {"value": "CAD"},
                                "ExchangeRate": 0.74})
    assert pay["HomeTotalAmt"] == 418.1
    assert us.ok(us.get(f"/invoice/{inv['Id']}"))["Invoice"]["HomeBalance"] == 413.3
