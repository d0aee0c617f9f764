"""Accounting API basics: companyinfo, preferences, read, create, update, delete, void, query."""

from __future__ import annotations

import httpx


def test_every_response_has_intuit_tid_and_json(us):
    r = us.get(f"/companyinfo/{us.realm}")
    info = us.ok(r)["CompanyInfo"]
    assert r.headers["intuit_tid"]
    assert info["Country"] == "US" and info["Id"] == "1"
    assert us.ok(us.get("/preferences"))["Preferences"]["CurrencyPrefs"]["HomeCurrency"]["value"] == "USD"


def test_chart_has_more_than_one_page_of_accounts(us):
    count = us.ok(us.query("SELECT COUNT(*) FROM Account"))["QueryResponse"]["totalCount"]
    assert count >= 120
    first = us.ok(us.query("select * from Account"))["QueryResponse"]
    assert first["startPosition"] == 1 and first["maxResults"] == 100 == len(first["Account"])
    rest = us.ok(us.query("select * from Account STARTPOSITION 101 MAXRESULTS 100"))["QueryResponse"]
    assert len(rest["Account"]) == count - 100 == rest["maxResults"]
    ids = [a["Id"] for a in first["Account"] + rest["Account"]]
    assert len(set(ids)) == count and all(isinstance(i, str) for i in ids)
    past = us.ok(us.query(f"select * from Account STARTPOSITION {count + 1}"))
    assert past["QueryResponse"] == {}


def test_query_operators_escaping_and_order(us):
    amy = us.ok(us.query("select * from Customer where DisplayName = 'Amy\\'s Bird Sanctuary'"))["QueryResponse"]["Customer"]
    assert [c["DisplayName"] for c in amy] == ["Amy's Bird Sanctuary"]
    like = us.ok(us.query("SELECT * FROM Account WHERE Name LIKE 'Travel%' ORDERBY Name DESC"))["QueryResponse"]["Account"]
    names = [a["Name"] for a in like]
    assert names == sorted(names, reverse=True) and all(n.startswith("Travel") for n in names) and len(names) >= 4
    some = us.ok(us.query("select * from Account where Id IN ('1', '2', '3') and Active = true"))["QueryResponse"]
    assert sorted(a["Id"] for a in some["Account"]) == ["1", "2", "3"]
    banks = us.ok(us.query("select * from Account where AccountType = 'Bank' and AcctNum >= '1020'"))["QueryResponse"]
    assert {a["Name"] for a in banks["Account"]} >= {"Savings Account", "Client Trust Account"}


def test_query_errors(us):
    assert us.fault(us.query("select * from Customer where DisplayName = 'A' OR DisplayName = 'B'"))["code"] == "4000"
    assert us.fault(us.query("select * from Customer where DisplayName = 'Amy's Bird'"))["code"] == "4000"
    err = us.fault(us.query("select * from Customer MAXRESULTS 1500"))
    assert err["code"] == "4001" and "value 1500 is too large. Max allowed value is 1000" in err["Detail"]
    assert us.fault(us.query("select * from Custmoer"))["Detail"] == "QueryValidationError: invalid context declaration: Custmoer"
    assert us.fault(us.query("select * from Customer STARTPOSITION 0"))["code"] == "4001"


def test_query_by_post_with_application_text(us):
    r = us.http.post("/query", content="select * from TaxCode", headers={"Content-Type": "application/text"},
                     params={"minorversion": "75"})
    codes = us.ok(r)["QueryResponse"]["TaxCode"]
    assert [c["Id"] for c in codes[:2]] == ["TAX", "NON"]


def test_customer_create_read_sparse_update_and_duplicate(us):
    created = us.create("Customer", {"DisplayName": "O'Hara & Sons, Ltd."})
    assert created["SyncToken"] == "0" and created["Id"].isdigit() and created["Active"] is True
    assert created["Balance"] == 0
    read = us.ok(us.get(f"/customer/{created['Id']}"))["Customer"]
    assert read["DisplayName"] == "O'Hara & Sons, Ltd."
    dup = us.fault(us.post("/customer", {"DisplayName": "o'hara & sons, ltd."}))
    assert dup["code"] == "6240" and dup["Message"] == "Duplicate Name Exists Error"
    same = us.create("Customer", {"Id": created["Id"], "SyncToken": "0", "sparse": True, "DisplayName": "O'Hara & Sons, Ltd."})
    assert same["SyncToken"] == "0"
    changed = us.create("Customer", {"Id": created["Id"], "SyncToken": "0", "sparse": True,
                                     "PrimaryEmailAddr": {"Address": "a@b.example"}})
    assert changed["SyncToken"] == "1" and changed["DisplayName"] == "O'Hara & Sons, Ltd."
    stale = us.fault(us.post("/customer", {"Id": created["Id"], "SyncToken": "0", "sparse": True, "Notes": "x"}))
    assert stale["code"] == "5010"
    gone = us.create("Customer", {"Id": created["Id"], "SyncToken": "1", "sparse": True, "Active": False})
    assert gone["DisplayName"] == "O'Hara & Sons, Ltd. (deleted)"
    hidden = us.ok(us.query("select * from Customer where DisplayName LIKE 'O\\'Hara%'"))["QueryResponse"]
    assert hidden == {}
    both = us.ok(us.query("select * from Customer where DisplayName LIKE 'O\\'Hara%' and Active IN (true, false)"))
    assert len(both["QueryResponse"]["Customer"]) == 1


def test_full_update_clears_fields_left_out(us):
    created = us.create("Customer", {"DisplayName": "Full Update Co", "Notes": "keep?", "CompanyName": "FU"})
    updated = us.create("Customer", {"Id": created["Id"], "SyncToken": "0", "DisplayName": "Full Update Co"})
    assert "Notes" not in updated and "CompanyName" not in updated and updated["SyncToken"] == "1"


def test_missing_required_and_unknown_reference(us):
    err = us.fault(us.post("/invoice", {"Line": [{"Amount": 10, "DetailType": "SalesItemLineDetail",
                                                   "SalesItemLineDetail": {"ItemRef": {"value": "1"}}}]}))
    assert err["code"] == "2020" and err["element"] == "CustomerRef"
    err = us.fault(us.post("/invoice", {"CustomerRef": {"value": "1"}, "Line": [
        {"Amount": 10, "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": {"ItemRef": {"value": "9999"}}}]}))
    assert err["code"] == "2500" and err["element"] == "Line.SalesItemLineDetail.ItemRef"
    assert us.fault(us.post("/item", {"Name": "No Income"}))["code"] == "2020"


def test_read_unknown_and_bad_ids(us):
    assert us.fault(us.get("/invoice/987654"))["code"] == "610"
    assert us.fault(us.get("/invoice/1.5"))["code"] == "2030"
    assert us.fault(us.get("/nosuchthing/1"))["code"] == "500"


def test_item_with_income_and_expense_accounts(uk):
    items = uk.ok(uk.query("select * from Item where Type = 'NonInventory'"))["QueryResponse"]["Item"]
    assert items and all(i["IncomeAccountRef"]["value"] and i["ExpenseAccountRef"]["value"] for i in items)
    income = uk.ok(uk.query("select * from Account where AccountType = 'Income' MAXRESULTS 1"))["QueryResponse"]["Account"][0]
    err = uk.fault(uk.post("/item", {"Name": "Needs expense", "Type": "Service", "IncomeAccountRef": {"value": income["Id"]}}))
    assert err["code"] == "2020" and err["element"] == "ExpenseAccountRef"


def test_unauthenticated_request_gets_lower_case_401(sb):
    r = httpx.get(f"{sb.base_url}/v3/company/{sb.realm_ids['US']}/customer/1",
                  headers={"Authorization": "Bearer not-a-real-token-at-all"})
    assert r.status_code == 401
    body = r.json()
    assert body["fault"]["type"] == "AUTHENTICATION" and isinstance(body["time"], int)
    assert body["fault"]["error"][0]["message"] == "message=AuthenticationFailed; errorCode=003200; statusCode=401"
    assert r.headers["intuit_tid"]


def test_unknown_property_is_2010(us):
    err = us.fault(us.post("/invoice", {"CustomerRef": {"value": "1"}, "BadJson": 1, "Line": [
        {"Amount": 10, "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": {"ItemRef": {"value": "1"}}}]}))
    assert err["code"] == "2010" and 'Unrecognized field "BadJson"' in err["Detail"]
    err = us.fault(us.post("/invoice", {"CustomerRef": {"value": "1"}, "Line": [
        {"Amount": 10, "DetailType": "SubtotalLineDetail", "SubtotalLineDetail": {}}]}))
    assert err["code"] == "2010"


def test_query_on_an_unknown_property_is_4001(us):
    err = us.fault(us.query("select * from Customer where Nickname = 'x'"))
    assert err["code"] == "4001" and "Nickname" in err["Detail"]
    assert us.fault(us.query("select * from Invoice ORDERBY Colour"))["code"] == "4001"
    ok = us.query("select * from Invoice where MetaData.LastUpdatedTime > '2020-01-01T00:00:00-07:00' ORDERBY TxnDate DESC")
    assert ok.status_code == 200


def test_id_takes_only_equals_and_in(us):
    assert us.fault(us.query("select * from Account where Id > '5'"))["code"] == "4001"
    assert us.ok(us.query("select * from Account where Id = '5'"))["QueryResponse"]["Account"][0]["Id"] == "5"
