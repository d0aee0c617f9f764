"""Deposit, JournalEntry, Transfer and Purchase with QBO's rules (5.10, 5.11, 5.16, 5.17), and the account
balances and per-customer liability they move (5.2: debits minus credits, a liability owed is negative)."""

from __future__ import annotations

import uuid

import pytest


def _accounts(api) -> dict[str, dict]:
    rows = api.ok(api.query("select * from Account MAXRESULTS 1000"))["QueryResponse"]["Account"]
    return {a["Name"]: a for a in rows}


@pytest.fixture(scope="module")
def acct(us):
    names = _accounts(us)
    return {key: names[name]["Id"] for key, name in (
        ("trust_bank", "Client Trust Account"), ("operating", "Operating Account"), ("savings", "Savings Account"),
        ("liability", "Client Trust Liability"), ("ar", "Accounts Receivable (A/R)"), ("ap", "Accounts Payable (A/P)"),
        ("undeposited", "Undeposited Funds"), ("income", "Legal Fee Income"), ("card", "Firm Credit Card"),
        ("fees", "Court Filing Fees"), ("equity", "Opening Balance Equity"), ("tax", "Sales Tax Payable"))}


def _customer(api):
    return api.create("Customer", {"DisplayName": f"Trust {uuid.uuid4().hex[:8]}"})["Id"]


def _balance(api, account_id):
    return api.ok(api.get(f"/account/{account_id}"))["Account"]["CurrentBalance"]


def _by_customer(api, account_id) -> dict:
    report = api.ok(api.get("/reports/AccountBalanceByCustomer", account=account_id))["Report"]
    return {(row["CustomerRef"] or {}).get("value"): row["Balance"] for row in report["Rows"]}


def _je(*lines):
    return {"Line": [{"Amount": amount, "DetailType": "JournalEntryLineDetail",
                      "JournalEntryLineDetail": {"PostingType": side, "AccountRef": {"value": account},
                                                 **({"Entity": {"Type": kind, "EntityRef": {"value": who}}} if who else {})}}
                     for side, account, amount, kind, who in lines]}


def test_a_trust_receipt_by_deposit_moves_bank_and_client_liability(us, acct):
    jane = _customer(us)
    bank, owed = _balance(us, acct["trust_bank"]), _balance(us, acct["liability"])
    dep = us.create("Deposit", {"DepositToAccountRef": {"value": acct["trust_bank"]}, "TotalAmt": 1, "Line": [
        {"Amount": 1000, "DetailType": "DepositLineDetail",
         "DepositLineDetail": {"AccountRef": {"value": acct["liability"]}, "Entity": {"value": jane, "type": "CUSTOMER"}}}]})
    assert dep["TotalAmt"] == 1000  # computed, the 1 sent is ignored
    assert _balance(us, acct["trust_bank"]) == bank + 1000
    assert _balance(us, acct["liability"]) == owed - 1000
    assert _by_customer(us, acct["liability"])[jane] == -1000
    assert us.ok(us.query(f"select * from Deposit where Id = '{dep['Id']}'"))["QueryResponse"]["Deposit"][0]["Id"] == dep["Id"]


def test_deposit_rules(us, acct):
    direct = {"Amount": 10, "DetailType": "DepositLineDetail", "DepositLineDetail": {"AccountRef": {"value": acct["equity"]}}}
    assert us.fault(us.post("/deposit", {"DepositToAccountRef": {"value": acct["income"]}, "Line": [direct]}))["code"] == "6000"
    assert us.fault(us.post("/deposit", {"Line": [direct]}))["code"] == "2020"
    dep = us.create("Deposit", {"DepositToAccountRef": {"value": acct["operating"]}, "Line": [direct],
                                "CashBack": {"AccountRef": {"value": acct["savings"]}, "Amount": 4}})
    assert dep["TotalAmt"] == 6
    # no sparse: a sparse body without DepositToAccountRef is 2020
    assert us.fault(us.post("/deposit", {"Id": dep["Id"], "SyncToken": "0", "sparse": True, "PrivateNote": "x"}))["code"] == "2020"


def test_a_deposit_takes_a_whole_payment_out_of_undeposited_funds_once(us, acct):
    cust = _customer(us)
    inv = us.create("Invoice", {"CustomerRef": {"value": cust}, "Line": [
        {"Amount": 200, "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": {"ItemRef": {"value": "2"}}}]})
    pay = us.create("Payment", {"CustomerRef": {"value": cust}, "TotalAmt": 200,
                                "Line": [{"Amount": 200, "LinkedTxn": [{"TxnId": inv["Id"], "TxnType": "Invoice"}]}]})
    undeposited = _balance(us, acct["undeposited"])
    link = {"Amount": 200, "LinkedTxn": [{"TxnId": pay["Id"], "TxnType": "Payment", "TxnLineId": "0"}]}
    assert us.fault(us.post("/deposit", {"DepositToAccountRef": {"value": acct["operating"]},
                                         "Line": [dict(link, Amount=150)]}))["code"] == "6000"
    dep = us.create("Deposit", {"DepositToAccountRef": {"value": acct["operating"]}, "Line": [link]})
    assert dep["TotalAmt"] == 200 and _balance(us, acct["undeposited"]) == undeposited - 200
    assert us.ok(us.get(f"/payment/{pay['Id']}"))["Payment"]["LinkedTxn"] == [{"TxnId": dep["Id"], "TxnType": "Deposit"}]
    assert us.fault(us.post("/deposit", {"DepositToAccountRef": {"value": acct["operating"]}, "Line": [link]}))["code"] == "6000"
    changed = us.fault(us.post("/payment", {"Id": pay["Id"], "SyncToken": pay["SyncToken"]}, operation="delete"))
    assert changed["code"] == "6540"


def test_journal_entry_rules(us, acct):
    cust, vendor = _customer(us), us.create("Vendor", {"DisplayName": f"Court {uuid.uuid4().hex[:6]}"})["Id"]
    one = us.fault(us.post("/journalentry", _je(("Debit", acct["operating"], 5, None, None))))
    assert one["code"] == "6000" and "at least two detail lines" in one["Detail"]
    ar = us.fault(us.post("/journalentry", _je(("Debit", acct["ar"], 5, None, None), ("Credit", acct["income"], 5, None, None))))
    assert ar["code"] == "6000" and "Accounts Receivable" in ar["Detail"]
    ap = us.fault(us.post("/journalentry", _je(("Credit", acct["ap"], 5, "Customer", cust), ("Debit", acct["fees"], 5, None, None))))
    assert ap["code"] == "6000" and "Accounts Payable" in ap["Detail"]
    unbalanced = us.fault(us.post("/journalentry", _je(("Debit", acct["operating"], 5, None, None),
                                                       ("Credit", acct["equity"], 4, None, None))))
    assert unbalanced["code"] == "6000"
    no_account = _je(("Debit", acct["operating"], 5, None, None), ("Credit", acct["equity"], 5, None, None))
    del no_account["Line"][1]["JournalEntryLineDetail"]["AccountRef"]
    missing = us.fault(us.post("/journalentry", no_account))
    assert missing["code"] == "2020" and missing["element"] == "AccountRef"
    # a trust disbursement: liability down for the client, trust bank down; Entity allowed on any line
    owed = _by_customer(us, acct["liability"]).get(cust, 0)
    je = us.create("JournalEntry", _je(("Debit", acct["liability"], 300, "Customer", cust),
                                       ("Credit", acct["trust_bank"], 300, "Customer", cust)))
    assert je["TotalAmt"] == 300 and _by_customer(us, acct["liability"])[cust] == owed + 300
    us.create("JournalEntry", _je(("Debit", acct["fees"], 20, None, None), ("Credit", acct["ap"], 20, "Vendor", vendor)))


def test_transfer_rules_and_postings(us, acct):
    def transfer(src, dst, amount):
        return us.post("/transfer", {"FromAccountRef": {"value": src}, "ToAccountRef": {"value": dst}, "Amount": amount})

    for src, dst, amount in ((acct["ar"], acct["operating"], 10), (acct["liability"], acct["operating"], 10),
                             (acct["operating"], acct["operating"], 10), (acct["operating"], acct["savings"], 0),
                             (acct["operating"], acct["savings"], -5)):
        assert us.fault(transfer(src, dst, amount))["code"] == "6000"
    before = (_balance(us, acct["operating"]), _balance(us, acct["savings"]))
    made = us.ok(transfer(acct["operating"], acct["savings"], 250))["Transfer"]
    assert made["Amount"] == 250
    assert (_balance(us, acct["operating"]), _balance(us, acct["savings"])) == (before[0] - 250, before[1] + 250)
    us.ok(us.post("/transfer", {"Id": made["Id"], "SyncToken": "0"}, operation="delete"))
    assert (_balance(us, acct["operating"]), _balance(us, acct["savings"])) == before


def test_purchase_rules_and_postings(us, acct):
    cust = _customer(us)
    line = {"Amount": 75, "DetailType": "AccountBasedExpenseLineDetail",
            "AccountBasedExpenseLineDetail": {"AccountRef": {"value": acct["fees"]}, "CustomerRef": {"value": cust}}}
    assert us.fault(us.post("/purchase", {"AccountRef": {"value": acct["operating"]}, "Line": [line]}))["code"] == "2020"
    assert us.fault(us.post("/purchase", {"PaymentType": "Check", "AccountRef": {"value": acct["card"]},
                                          "Line": [line]}))["code"] == "6000"
    assert us.fault(us.post("/purchase", {"PaymentType": "Cash", "AccountRef": {"value": acct["operating"]},
                                          "Credit": True, "Line": [line]}))["code"] == "6000"
    bank = _balance(us, acct["operating"])
    made = us.create("Purchase", {"PaymentType": "Check", "AccountRef": {"value": acct["operating"]}, "Line": [line]})
    assert made["TotalAmt"] == 75 and made["Line"][0]["AccountBasedExpenseLineDetail"]["BillableStatus"] == "NotBillable"
    assert _balance(us, acct["operating"]) == bank - 75
    assert _balance(us, acct["fees"]) == 0  # expense accounts show 0 (reference 5.2)
    sparse = us.fault(us.post("/purchase", {"Id": made["Id"], "SyncToken": "0", "sparse": True, "PrivateNote": "x"}))
    assert sparse["code"] == "2020"
    card = _balance(us, acct["card"])
    us.create("Purchase", {"PaymentType": "CreditCard", "AccountRef": {"value": acct["card"]}, "Line": [line]})
    assert _balance(us, acct["card"]) == card - 75  # a liability owed is negative


def test_invoices_and_payments_move_ar_tax_and_bank(us, acct):
    cust = _customer(us)
    ar, tax, undeposited = _balance(us, acct["ar"]), _balance(us, acct["tax"]), _balance(us, acct["undeposited"])
    inv = us.create("Invoice", {"CustomerRef": {"value": cust}, "Line": [
        {"Amount": 100, "DetailType": "SalesItemLineDetail",
         "SalesItemLineDetail": {"ItemRef": {"value": "2"}, "TaxCodeRef": {"value": "TAX"}}}]})
    total_tax = inv["TxnTaxDetail"]["TotalTax"]
    assert total_tax > 0
    assert _balance(us, acct["ar"]) == pytest.approx(ar + inv["TotalAmt"])
    assert _balance(us, acct["tax"]) == pytest.approx(tax - total_tax)
    us.create("Payment", {"CustomerRef": {"value": cust}, "TotalAmt": inv["TotalAmt"],
                          "Line": [{"Amount": inv["TotalAmt"], "LinkedTxn": [{"TxnId": inv["Id"], "TxnType": "Invoice"}]}]})
    assert _balance(us, acct["ar"]) == pytest.approx(ar)
    assert _balance(us, acct["undeposited"]) == pytest.approx(undeposited + inv["TotalAmt"])


def test_balances_are_readable_from_the_state_too(sb, us, acct):
    cust = _customer(us)
    us.create("JournalEntry", _je(("Debit", acct["trust_bank"], 40, None, None),
                                  ("Credit", acct["liability"], 40, "Customer", cust)))
    assert sb.state.balances(us.realm, acct["liability"])[cust] == -40


def test_vendor_names_are_unique_across_customers_and_vendors(us):
    name = f"Both {uuid.uuid4().hex[:6]}"
    us.create("Customer", {"DisplayName": name})
    assert us.fault(us.post("/vendor", {"DisplayName": name}))["code"] == "6240"
    vendor = us.create("Vendor", {"DisplayName": name + " Supplies"})
    assert us.fault(us.post("/customer", {"DisplayName": vendor["DisplayName"]}))["code"] == "6240"
    assert us.ok(us.query(f"select * from Vendor where Id = '{vendor['Id']}'"))["QueryResponse"]["Vendor"][0]["Balance"] == 0


def test_foreign_currency_on_trust_entities_needs_multicurrency(us, acct):
    body = {"FromAccountRef": {"value": acct["operating"]}, "ToAccountRef": {"value": acct["savings"]}, "Amount": 5,
            "CurrencyRef": {"value": "EUR"}}
    assert us.fault(us.post("/transfer", body))["code"] == "6000"


def test_a_sparse_account_update_must_carry_the_name(us, acct):
    account = us.ok(us.get(f"/account/{acct['savings']}"))["Account"]
    err = us.fault(us.post("/account", {"Id": account["Id"], "SyncToken": account["SyncToken"], "sparse": True,
                                        "Description": "x"}))
    assert err["code"] == "2020" and "Name" in err["Detail"]
    ok = us.create("Account", {"Id": account["Id"], "SyncToken": account["SyncToken"], "sparse": True,
                               "Name": account["Name"], "Description": "Reserve"})
    assert ok["Description"] == "Reserve" and ok["CurrentBalance"] == account["CurrentBalance"]


@pytest.mark.parametrize("entity", ["Customer", "Vendor"])
def test_display_names_with_a_colon_tab_or_newline_or_none_are_refused(us, entity):
    # Reference (Customer): names may not contain ':', tab or newline; customers and vendors share the check.
    path = f"/{entity.lower()}"
    for bad in ("Smith: Estate", "Smith\tEstate", "Smith\nEstate"):
        fault = us.fault(us.post(path, {"DisplayName": bad}))
        assert fault["code"] == "2010" and fault["element"] == "DisplayName", bad
    missing = us.fault(us.post(path, {"DisplayName": "  "}))
    assert missing["code"] == "2020" and missing["element"] == "DisplayName"
    assert not us.ok(us.query(f"select * from {entity} where DisplayName like 'Smith%'"))["QueryResponse"].get(entity)
