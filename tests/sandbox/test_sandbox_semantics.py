"""The parts of QBO clients trip on: totals and tax, balances, business rules, requestid, batch, cdc."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from tests.sandbox.conftest import settings_of


def _line(amount, item="2", qty=None, price=None, tax=None):
    detail = {"ItemRef": {"value": item}}
    if qty is not None:
        detail["Qty"] = qty
    if price is not None:
        detail["UnitPrice"] = price
    if tax:
        detail["TaxCodeRef"] = {"value": tax}
    return {"Amount": amount, "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": detail}


def _customer(api, name=None):
    return api.create("Customer", {"DisplayName": name or f"Client {uuid.uuid4().hex[:8]}"})


def test_us_invoice_computes_subtotal_tax_total_and_defaults(us):
    cust = _customer(us)
    inv = us.create("Invoice", {"CustomerRef": {"value": cust["Id"]},
                                "Line": [_line(250, qty=2, price=125, tax="TAX"), _line(41.0, tax="NON")]})
    assert inv["Line"][-1] == {"Amount": 291.0, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}}
    detail = inv["TxnTaxDetail"]
    assert detail["TotalTax"] == 20.63  # 250 x (7.25% + 1%) = 18.125 + 2.5
    assert [t["TaxLineDetail"]["NetAmountTaxable"] for t in detail["TaxLine"]] == [250, 250]
    assert inv["TotalAmt"] == 311.63 and inv["Balance"] == 311.63
    assert inv["DocNumber"].isdigit() and inv["SyncToken"] == "0"
    due = datetime.fromisoformat(inv["DueDate"]) - datetime.fromisoformat(inv["TxnDate"])
    assert due.days == 30
    assert inv["CustomerRef"]["name"] == cust["DisplayName"]


def test_amounts_have_two_decimals_on_the_wire(us):
    cust = _customer(us)
    r = us.post("/invoice", {"CustomerRef": {"value": cust["Id"]}, "Line": [_line(100, qty=4.5, price=22.2222222)]})
    assert r.status_code == 200  # 4.5 x 22.2222222 rounds to 100.00: the rule compares cents
    r = us.post("/invoice", {"CustomerRef": {"value": cust["Id"]}, "Line": [_line(337.5, qty=4.5, price=75)]})
    assert '"Amount":337.50' in r.text and '"UnitPrice":75' in r.text and '"Qty":4.5' in r.text


def test_amount_not_qty_times_price_is_6000(us):
    cust = _customer(us)
    err = us.fault(us.post("/invoice", {"CustomerRef": {"value": cust["Id"]}, "Line": [_line(100, qty=2, price=40)]}))
    assert err["code"] == "6000" and "Amount is not equal to UnitPrice * Qty" in err["Detail"]


def test_non_us_invoice_taxes_each_line_by_its_code(uk):
    codes = {c["Name"]: c["Id"] for c in uk.ok(uk.query("select * from TaxCode"))["QueryResponse"]["TaxCode"]}
    cust = _customer(uk)
    inv = uk.create("Invoice", {"CustomerRef": {"value": cust["Id"]}, "GlobalTaxCalculation": "TaxExcluded",
                                "Line": [_line(100, tax=codes["20.0% S"]), _line(50, tax=codes["0.0% Z"])]})
    assert inv["TxnTaxDetail"]["TotalTax"] == 20 and inv["TotalAmt"] == 170
    assert "TxnTaxCodeRef" not in inv["TxnTaxDetail"]
    inclusive = uk.create("Invoice", {"CustomerRef": {"value": cust["Id"]}, "GlobalTaxCalculation": "TaxInclusive",
                                      "Line": [_line(120, tax=codes["20.0% S"])]})
    assert inclusive["TxnTaxDetail"]["TotalTax"] == 20 and inclusive["TotalAmt"] == 120
    missing = uk.fault(uk.post("/invoice", {"CustomerRef": {"value": cust["Id"]}, "Line": [_line(10, tax=codes["0.0% Z"])]}))
    assert missing["code"] == "2020" and missing["element"] == "GlobalTaxCalculation"
    excluded = {"CustomerRef": {"value": cust["Id"]}, "GlobalTaxCalculation": "TaxExcluded"}
    err = uk.fault(uk.post("/invoice", {**excluded, "Line": [_line(10)]}))
    assert err["code"] == "6000" and "VAT" in err["Detail"]
    assert uk.fault(uk.post("/invoice", {**excluded, "Line": [_line(10, tax="TAX")]}))["code"] == "2500"


def test_duplicate_docnumber_is_6140(us):
    cust = _customer(us)
    number = "D-" + uuid.uuid4().hex[:6]
    first = us.create("Invoice", {"DocNumber": number, "CustomerRef": {"value": cust["Id"]}, "Line": [_line(10)]})
    err = us.fault(us.post("/invoice", {"DocNumber": number, "CustomerRef": {"value": cust["Id"]}, "Line": [_line(10)]}))
    assert err["code"] == "6140" and f"DocNumber={number}" in err["Detail"] and f"TxnId={first['Id']}" in err["Detail"]


def test_inactive_reference_is_610(us):
    cust = _customer(us)
    us.create("Customer", {"Id": cust["Id"], "SyncToken": cust["SyncToken"], "sparse": True, "Active": False})
    err = us.fault(us.post("/invoice", {"CustomerRef": {"value": cust["Id"]}, "Line": [_line(10)]}))
    assert err["code"] == "610" and err["element"] == "CustomerRef"


def test_payments_and_credit_memos_drive_invoice_balance(us):
    cust = _customer(us)
    inv = us.create("Invoice", {"CustomerRef": {"value": cust["Id"]}, "Line": [_line(300)]})
    pay = us.create("Payment", {"CustomerRef": {"value": cust["Id"]}, "TotalAmt": 100,
                                "Line": [{"Amount": 100, "LinkedTxn": [{"TxnId": inv["Id"], "TxnType": "Invoice"}]}]})
    assert pay["UnappliedAmt"] == 0 and pay["DepositToAccountRef"]["value"]
    extras = {nv["value"]["Name"]: nv["value"]["Value"] for nv in pay["Line"][0]["LineEx"]["any"]}
    assert extras == {"txnId": inv["Id"], "txnOpenBalance": "300.00", "txnReferenceNumber": inv["DocNumber"]}
    after = us.ok(us.get(f"/invoice/{inv['Id']}"))["Invoice"]
    assert after["Balance"] == 200 and after["LinkedTxn"] == [{"TxnId": pay["Id"], "TxnType": "Payment"}]
    memo = us.create("CreditMemo", {"CustomerRef": {"value": cust["Id"]}, "Line": [_line(50)]})
    assert memo["RemainingCredit"] == 50 and memo["TotalAmt"] == 50
    us.create("Payment", {"CustomerRef": {"value": cust["Id"]}, "TotalAmt": 0, "Line": [
        {"Amount": 50, "LinkedTxn": [{"TxnId": inv["Id"], "TxnType": "Invoice"}]},
        {"Amount": 50, "LinkedTxn": [{"TxnId": memo["Id"], "TxnType": "CreditMemo"}]}]})
    assert us.ok(us.get(f"/invoice/{inv['Id']}"))["Invoice"]["Balance"] == 150
    assert us.ok(us.get(f"/creditmemo/{memo['Id']}"))["CreditMemo"]["RemainingCredit"] == 0
    assert us.ok(us.get(f"/customer/{cust['Id']}"))["Customer"]["Balance"] == 150
    over = us.fault(us.post("/payment", {"CustomerRef": {"value": cust["Id"]}, "TotalAmt": 500, "Line": [
        {"Amount": 151, "LinkedTxn": [{"TxnId": inv["Id"], "TxnType": "Invoice"}]}]}))
    assert over["code"] == "6000"
    short = us.fault(us.post("/payment", {"CustomerRef": {"value": cust["Id"]}, "TotalAmt": 10, "Line": [
        {"Amount": 20, "LinkedTxn": [{"TxnId": inv["Id"], "TxnType": "Invoice"}]}]}))
    assert short["code"] == "6000"
    err = us.fault(us.post("/invoice", {"Id": inv["Id"], "SyncToken": inv["SyncToken"]}, operation="delete"))
    assert err["code"] == "6000" and "payments" in err["Detail"]
    us.create("Payment", {"Id": pay["Id"], "SyncToken": "0", "sparse": True}, operation="update", include="void")
    assert us.ok(us.get(f"/invoice/{inv['Id']}"))["Invoice"]["Balance"] == 250


def test_delete_and_void(us):
    cust = _customer(us)
    inv = us.create("Invoice", {"CustomerRef": {"value": cust["Id"]}, "Line": [_line(80)]})
    voided = us.create("Invoice", {"Id": inv["Id"], "SyncToken": "0"}, operation="void")
    assert voided["TotalAmt"] == 0 and voided["Balance"] == 0 and voided["PrivateNote"] == "Voided"
    assert voided["SyncToken"] == "1"
    other = us.create("Invoice", {"CustomerRef": {"value": cust["Id"]}, "Line": [_line(80)]})
    stale = us.fault(us.post("/invoice", {"Id": other["Id"], "SyncToken": "5"}, operation="delete"))
    assert stale["code"] == "5010"
    gone = us.ok(us.post("/invoice", {"Id": other["Id"], "SyncToken": "0"}, operation="delete"))
    assert gone["Invoice"] == {"domain": "QBO", "status": "Deleted", "Id": other["Id"]}
    assert us.fault(us.get(f"/invoice/{other['Id']}"))["code"] == "610"


def test_journal_entry_must_balance(us):
    accounts = us.ok(us.query("select * from Account where AccountType = 'Bank'"))["QueryResponse"]["Account"]
    equity = us.ok(us.query("select * from Account where AccountType = 'Equity'"))["QueryResponse"]["Account"]

    def je(debit, credit):
        return {"Line": [
            {"Amount": debit, "DetailType": "JournalEntryLineDetail",
             "JournalEntryLineDetail": {"PostingType": "Debit", "AccountRef": {"value": accounts[0]["Id"]}}},
            {"Amount": credit, "DetailType": "JournalEntryLineDetail",
             "JournalEntryLineDetail": {"PostingType": "Credit", "AccountRef": {"value": equity[0]["Id"]}}}]}

    ok = us.create("JournalEntry", je(100, 100))
    assert [line["Id"] for line in ok["Line"]] == ["0", "1"]
    assert us.fault(us.post("/journalentry", je(100, 90)))["code"] == "6000"


def test_requestid_replays_the_first_response_and_writes_once(us):
    cust = _customer(us)
    rid = str(uuid.uuid4())
    body = {"CustomerRef": {"value": cust["Id"]}, "Line": [_line(10)]}
    first = us.post("/invoice", body, requestid=rid)
    second = us.post("/invoice", body, requestid=rid)
    assert first.status_code == second.status_code == 200
    assert first.json()["Invoice"]["Id"] == second.json()["Invoice"]["Id"]
    count = us.ok(us.query(f"select count(*) from Invoice where CustomerRef = '{cust['Id']}'"))
    assert count["QueryResponse"]["totalCount"] == 1
    bad = str(uuid.uuid4())
    assert us.post("/invoice", {"Line": []}, requestid=bad).status_code == 400
    assert us.post("/invoice", body, requestid=bad).status_code == 400  # the first answer, replayed


def test_batch_items_fail_independently(us):
    cust = _customer(us)
    inv = us.create("Invoice", {"CustomerRef": {"value": cust["Id"]}, "Line": [_line(10)]})
    r = us.post("/batch", {"BatchItemRequest": [
        {"bId": "bid1", "operation": "create", "Customer": {"DisplayName": f"Batch {uuid.uuid4().hex[:6]}"}},
        {"bId": "bid2", "operation": "update", "Invoice": {"Id": inv["Id"], "SyncToken": "9", "sparse": True, "PrivateNote": "x"}},
        {"bId": "bid3", "Query": "select * from Customer MAXRESULTS 2"},
        {"bId": "bid4", "operation": "delete", "Invoice": {"Id": "99999", "SyncToken": "0"}}]})
    items = {i["bId"]: i for i in us.ok(r)["BatchItemResponse"]}
    assert items["bid1"]["Customer"]["Id"]
    assert items["bid2"]["Fault"]["Error"][0]["code"] == "5010" and items["bid2"]["Fault"]["type"] == "ValidationFault"
    assert items["bid3"]["QueryResponse"]["maxResults"] == 2
    assert items["bid4"]["Fault"]["Error"][0]["code"] == "610"


def test_cdc_reports_changes_and_deletions(us):
    since = (datetime.now(timezone.utc) - timedelta(seconds=5)).isoformat(timespec="seconds")
    cust = _customer(us)
    inv = us.create("Invoice", {"CustomerRef": {"value": cust["Id"]}, "Line": [_line(10)]})
    us.ok(us.post("/invoice", {"Id": inv["Id"], "SyncToken": "0"}, operation="delete"))
    body = us.ok(us.get("/cdc", entities="Customer,Invoice", changedSince=since))
    customers, invoices = body["CDCResponse"][0]["QueryResponse"]
    assert cust["Id"] in [c["Id"] for c in customers["Customer"]]
    deleted = [i for i in invoices["Invoice"] if i["Id"] == inv["Id"]]
    assert deleted and deleted[0]["status"] == "Deleted"


def test_state_survives_restart(tmp_path):
    from core.sandbox.store import SandboxState
    from core.sandbox import entities

    state = SandboxState(tmp_path / "s.db", companies=["US"])
    company = state.company(state.realm_ids["US"])
    with state.atomic():
        made = entities.write(company, "Customer", "create", {"DisplayName": "Persistent Pat"})
    state.close()
    again = SandboxState(tmp_path / "s.db", companies=["US"])
    assert again.entity(again.realm_ids["US"], "Customer", made["Id"])["DisplayName"] == "Persistent Pat"
    again.close()


def test_no_zero_tax_company_has_no_zero_rate_code(tmp_path):
    from core.sandbox.store import SandboxState

    state = SandboxState(tmp_path / "z.db", companies=["UK", "CA"], no_zero_tax=True)
    for cc in ("UK", "CA"):
        rates = state.entities(state.realm_ids[cc], "TaxRate")
        assert rates and all(r["RateValue"] != 0 for r in rates)
    state.close()
    normal = SandboxState(tmp_path / "n.db", companies=["UK"])
    assert any(r["RateValue"] == 0 for r in normal.entities(normal.realm_ids["UK"], "TaxRate"))
    normal.close()


def test_sparse_update_with_lines_is_refused_by_default_with_2020(us):
    cust = _customer(us)
    inv = us.create("Invoice", {"CustomerRef": {"value": cust["Id"]}, "Line": [_line(100), _line(50)]})
    err = us.fault(us.post("/invoice", {"Id": inv["Id"], "SyncToken": "0", "sparse": True, "Line": [_line(120)]}))
    assert err["code"] == "2020" and err["element"] == "Line"
    assert us.ok(us.get(f"/invoice/{inv['Id']}"))["Invoice"]["TotalAmt"] == 150
    memo = us.create("Invoice", {"Id": inv["Id"], "SyncToken": "0", "sparse": True, "PrivateNote": "kept lines"})
    assert memo["TotalAmt"] == 150 and memo["SyncToken"] == "1"


def test_full_update_nulls_what_it_leaves_out(us):
    cust = _customer(us)
    inv = us.create("Invoice", {"CustomerRef": {"value": cust["Id"]}, "PrivateNote": "memo", "Line": [_line(100)]})
    full = us.create("Invoice", {"Id": inv["Id"], "SyncToken": "0", "CustomerRef": {"value": cust["Id"]},
                                 "Line": [_line(60)]})
    assert full["TotalAmt"] == 60 and "PrivateNote" not in full


def test_sparse_update_with_lines_replaces_them_and_cannot_undercut_payments(us):
    settings_of(us)["sparse_line"] = "replace"
    cust = _customer(us)
    inv = us.create("Invoice", {"CustomerRef": {"value": cust["Id"]}, "Line": [_line(100), _line(50)]})
    one = us.create("Invoice", {"Id": inv["Id"], "SyncToken": "0", "sparse": True, "Line": [_line(120)]})
    assert [line["Amount"] for line in one["Line"]] == [120, 120] and one["TotalAmt"] == 120
    assert one["SyncToken"] == "1" and one["DocNumber"] == inv["DocNumber"]
    us.create("Payment", {"CustomerRef": {"value": cust["Id"]}, "TotalAmt": 100,
                          "Line": [{"Amount": 100, "LinkedTxn": [{"TxnId": inv["Id"], "TxnType": "Invoice"}]}]})
    err = us.fault(us.post("/invoice", {"Id": inv["Id"], "SyncToken": "1", "sparse": True, "Line": [_line(90)]}))
    assert err["code"] == "6000"


def test_embedded_sandbox_keeps_its_state_across_restarts(tmp_path):
    from core.sandbox.served import start_embedded
    from tests.sandbox.conftest import Api

    first = start_embedded(tmp_path / "e.db", companies=["NZ"])
    api = Api(first, "NZ")
    made = api.create("Customer", {"DisplayName": "Kept Across Restarts"})
    api.close()
    first.stop()
    second = start_embedded(tmp_path / "e.db", companies=["NZ"])
    try:
        assert second.state.entity(second.realm_ids["NZ"], "Customer", made["Id"])["DisplayName"] == "Kept Across Restarts"
        api = Api(second, "NZ")
        assert api.ok(api.get(f"/customer/{made['Id']}"))["Customer"]["SyncToken"] == "0"
        api.close()
    finally:
        second.stop()


def test_update_keeps_line_ids_and_numbers_new_lines_after_them(us):
    settings_of(us)["sparse_line"] = "replace"
    cust = _customer(us)
    inv = us.create("Invoice", {"CustomerRef": {"value": cust["Id"]}, "Line": [_line(10), _line(20)]})
    assert [line.get("Id") for line in inv["Line"]] == ["1", "2", None]
    second = dict(_line(25), Id="2")
    updated = us.create("Invoice", {"Id": inv["Id"], "SyncToken": "0", "sparse": True, "Line": [second, _line(5)]})
    assert [(line.get("Id"), line["Amount"]) for line in updated["Line"][:2]] == [("2", 25), ("3", 5)]
    assert [line.get("LineNum") for line in updated["Line"][:2]] == [1, 2]


def test_us_total_tax_without_tax_lines_is_never_an_override(us):
    cust = _customer(us)
    for sent in (20.60, 0):
        inv = us.create("Invoice", {"CustomerRef": {"value": cust["Id"]}, "TxnTaxDetail": {"TotalTax": sent},
                                    "Line": [_line(250, qty=2, price=125, tax="TAX")]})
        assert inv["TxnTaxDetail"]["TotalTax"] == 20.63 and inv["TotalAmt"] == 270.63


def test_non_us_tax_is_rounded_per_line(uk):
    codes = {c["Name"]: c["Id"] for c in uk.ok(uk.query("select * from TaxCode"))["QueryResponse"]["TaxCode"]}
    cust = _customer(uk)
    # 5% of 0.30 is 0.015 -> 0.02 per line (0.06), not 5% of 0.90 = 0.045 -> 0.05 once.
    inv = uk.create("Invoice", {"CustomerRef": {"value": cust["Id"]}, "GlobalTaxCalculation": "TaxExcluded",
                                "Line": [_line(0.30, tax=codes["5.0% R"]) for _ in range(3)]})
    assert inv["TxnTaxDetail"]["TotalTax"] == 0.06 and inv["TotalAmt"] == 0.96
