"""Closed books: with Preferences' BookCloseDate set, QBO refuses (6210) to create, change, delete or void a
transaction dated on or before it, whichever side of the date the change lies; names and items still change."""

from __future__ import annotations

import uuid


def _line(amount):
    return {"Amount": amount, "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": {"ItemRef": {"value": "2"}}}


def _close_books(api, close_date):
    prefs = api.ok(api.get("/preferences"))["Preferences"]
    body = {"SyncToken": prefs["SyncToken"], "sparse": True, "AccountingInfoPrefs": {"BookCloseDate": close_date}}
    return api.ok(api.post("/preferences", body))["Preferences"]


def test_a_closed_period_refuses_every_write_on_either_side_of_the_date(us):
    cust = us.create("Customer", {"DisplayName": f"Client {uuid.uuid4().hex[:8]}"})
    before = us.create("Invoice", {"CustomerRef": {"value": cust["Id"]}, "TxnDate": "2026-06-15", "Line": [_line(100)]})
    prefs = _close_books(us, "2026-06-30")
    assert prefs["AccountingInfoPrefs"]["BookCloseDate"] == "2026-06-30"
    assert prefs["AccountingInfoPrefs"]["UseAccountNumbers"] is True  # a sparse update keeps the rest

    refused = us.fault(us.post("/invoice", {"CustomerRef": {"value": cust["Id"]}, "TxnDate": "2026-06-30",
                                            "Line": [_line(50)]}))
    assert (refused["code"], refused["Message"], refused["element"]) == ("6210", "Account Period Closed", "TxnDate")
    assert "2026-06-30" in refused["Detail"]
    moved_out = {"Id": before["Id"], "SyncToken": before["SyncToken"], "sparse": True, "TxnDate": "2026-07-02"}
    assert us.fault(us.post("/invoice", moved_out))["code"] == "6210"
    assert us.fault(us.post("/invoice", {"Id": before["Id"], "SyncToken": before["SyncToken"]},
                            operation="delete"))["code"] == "6210"
    assert us.fault(us.post("/invoice", {"Id": before["Id"], "SyncToken": before["SyncToken"]},
                            operation="void"))["code"] == "6210"
    after = us.create("Invoice", {"CustomerRef": {"value": cust["Id"]}, "TxnDate": "2026-07-01", "Line": [_line(50)]})
    moved_in = {"Id": after["Id"], "SyncToken": after["SyncToken"], "sparse": True, "TxnDate": "2026-06-01"}
    assert us.fault(us.post("/invoice", moved_in))["code"] == "6210"
    payment = us.fault(us.post("/payment", {"CustomerRef": {"value": cust["Id"]}, "TotalAmt": 10,
                                            "TxnDate": "2026-05-01"}))
    assert payment["code"] == "6210"
    assert us.create("Customer", {"Id": cust["Id"], "SyncToken": cust["SyncToken"], "sparse": True,
                                  "CompanyName": "Renamed Ltd"})["CompanyName"] == "Renamed Ltd"
    assert us.ok(us.get(f"/invoice/{before['Id']}"))["Invoice"]["SyncToken"] == before["SyncToken"]  # untouched

    _close_books(us, "2026-05-31")  # the books reopened up to June
    assert us.create("Invoice", moved_out)["TxnDate"] == "2026-07-02"


def test_preferences_take_only_updates_with_the_current_synctoken(us):
    prefs = us.ok(us.get("/preferences"))["Preferences"]
    stale = {"SyncToken": str(int(prefs["SyncToken"]) + 5), "sparse": True,
             "AccountingInfoPrefs": {"BookCloseDate": "2026-01-31"}}
    assert us.fault(us.post("/preferences", stale))["code"] == "5010"
    garbled = {"SyncToken": prefs["SyncToken"], "sparse": True, "AccountingInfoPrefs": {"BookCloseDate": "31/01/2026"}}
    assert us.fault(us.post("/preferences", garbled))["code"] == "2010"
    assert us.ok(us.get("/preferences"))["Preferences"]["SyncToken"] == prefs["SyncToken"]
