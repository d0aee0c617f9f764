"""A batch runs in one transaction, each item in a savepoint of its own: a failing item leaves no trace
(in the file or in memory) and the others commit, as QBO's independent batch items do (reference 7)."""

from __future__ import annotations

import uuid

import pytest

from core.sandbox import entities
from core.sandbox.store import SandboxState
from core.sandbox.served import running_sandbox

from tests.sandbox.conftest import Api


def _line(amount: int) -> dict:
    return {"Amount": amount, "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": {"ItemRef": {"value": "2"}}}


def _invoice(customer_id: str, number: str, amount: int = 10) -> dict:
    return {"CustomerRef": {"value": customer_id}, "DocNumber": number, "Line": [_line(amount)]}


def _numbers(state: SandboxState, realm: str) -> set[str]:
    return {i["DocNumber"] for i in state.entities(realm, "Invoice")}


@pytest.fixture()
def own_sb(tmp_path):
    with running_sandbox(tmp_path / "sandbox.db", companies=["US"]) as sandbox:
        api = Api(sandbox, "US")
        yield sandbox, api
        api.close()


def test_a_failing_item_is_refused_alone_and_the_others_are_kept_after_a_restart(own_sb):
    sb, us = own_sb
    cust = us.create("Customer", {"DisplayName": f"Client {uuid.uuid4().hex[:6]}"})["Id"]
    us.create("Invoice", _invoice(cust, "B-0"))
    r = us.post("/batch", {"BatchItemRequest": [
        {"bId": "1", "operation": "create", "Invoice": _invoice(cust, "B-1")},
        {"bId": "2", "operation": "create", "Invoice": _invoice(cust, "B-0")},  # a duplicate DocNumber
        {"bId": "3", "operation": "create", "Invoice": {**_invoice(cust, "B-3"), "Line": [_line(5)] * 2}},
        {"bId": "4", "operation": "create", "Invoice": _invoice("99999", "B-4")}]})  # no such customer
    items = {i["bId"]: i for i in us.ok(r)["BatchItemResponse"]}
    assert items["1"]["Invoice"]["TotalAmt"] == 10 and items["3"]["Invoice"]["TotalAmt"] == 10
    assert items["2"]["Fault"]["Error"][0]["code"] == "6140"
    assert items["4"]["Fault"]["Error"][0]["code"] == "2500"
    realm = us.realm
    assert _numbers(sb.state, realm) == {"B-0", "B-1", "B-3"}
    # What the file holds is what memory held: a fresh state read from it agrees.
    again = SandboxState(sb.state.db_path, companies=())
    try:
        assert _numbers(again, realm) == {"B-0", "B-1", "B-3"}
    finally:
        again.close()


def test_an_item_that_breaks_after_its_write_leaves_no_trace(own_sb, monkeypatch):
    sb, us = own_sb
    cust = us.create("Customer", {"DisplayName": f"Client {uuid.uuid4().hex[:6]}"})["Id"]
    render = entities.render

    def render_or_break(company, etype, record):
        if record.get("DocNumber") == "X-2":
            raise RuntimeError("broke after saving")
        return render(company, etype, record)

    monkeypatch.setattr(entities, "render", render_or_break)
    r = us.post("/batch", {"BatchItemRequest": [
        {"bId": "1", "operation": "create", "Invoice": _invoice(cust, "X-1")},
        {"bId": "2", "operation": "create", "Invoice": _invoice(cust, "X-2")},
        {"bId": "3", "operation": "create", "Invoice": _invoice(cust, "X-3")}]})
    items = {i["bId"]: i for i in us.ok(r)["BatchItemResponse"]}
    assert items["2"]["Fault"]["type"] == "SystemFault" and items["2"]["Fault"]["Error"][0]["code"] == "10000"
    ids = {items["1"]["Invoice"]["Id"], items["3"]["Invoice"]["Id"]}
    monkeypatch.setattr(entities, "render", render)
    assert _numbers(sb.state, us.realm) == {"X-1", "X-3"}
    # The broken item's DocNumber is free again, and Ids go on from the kept ones.
    again = us.create("Invoice", _invoice(cust, "X-2"))
    assert int(again["Id"]) == max(int(i) for i in ids) + 1
    restarted = SandboxState(sb.state.db_path, companies=())
    try:
        assert _numbers(restarted, us.realm) == {"X-1", "X-2", "X-3"}
    finally:
        restarted.close()


def test_a_single_write_that_breaks_after_saving_leaves_no_trace(own_sb, monkeypatch):
    sb, us = own_sb
    cust = us.create("Customer", {"DisplayName": f"Client {uuid.uuid4().hex[:6]}"})["Id"]

    def broken(company, etype, record):
        raise RuntimeError("broke after saving")

    monkeypatch.setattr(entities, "render", broken)
    rid = str(uuid.uuid4())
    fault = us.fault(us.post("/invoice", _invoice(cust, "S-1"), requestid=rid), 500)
    assert fault["code"] == "10000"
    monkeypatch.undo()
    assert _numbers(sb.state, us.realm) == set()
    # Nothing was saved, so the retry with the same requestid is run afresh, not answered 500 again.
    assert us.create("Invoice", _invoice(cust, "S-1"), requestid=rid)["DocNumber"] == "S-1"
