"""Injected faults and per-company throttles, over real HTTP."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from core.sandbox.injection import FaultRule, SpecError, parse_faults, parse_limits


def _cust(us, **params):
    return us.post("/customer", {"DisplayName": f"F {uuid.uuid4().hex[:8]}"}, **params)


def _count(us) -> int:
    return us.ok(us.query("select count(*) from Customer"))["QueryResponse"]["totalCount"]


def test_rate_limit_answers_429_with_the_xml_body(sb, us):
    sb.state.set_limits(requests_per_minute=3)
    codes = [us.get("/preferences").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    r = us.get("/preferences")
    assert r.headers["content-type"].startswith("application/xml")
    assert '<Error code="3001">' in r.text and "ThrottleExceeded" in r.text
    assert r.headers["intuit_tid"]
    sb.state.advance(61)
    try:
        assert us.get("/preferences").status_code == 200
    finally:
        sb.state.advance(-61)


def test_limits_are_per_company(sb, us, uk):
    sb.state.set_limits(requests_per_minute=1)
    assert us.get("/preferences").status_code == 200
    assert us.get("/preferences").status_code == 429
    assert uk.get("/preferences").status_code == 200


def test_batch_size_and_batch_rate(sb, us):
    query = {"bId": "q", "Query": "select * from Item MAXRESULTS 1"}
    assert us.post("/batch", {"BatchItemRequest": [query] * 31}).status_code == 429
    assert us.post("/batch", {"BatchItemRequest": [query] * 30}).status_code == 200
    sb.state.set_limits(batches_per_minute=1, retry_after=7)
    assert us.post("/batch", {"BatchItemRequest": [query]}).status_code == 200
    r = us.post("/batch", {"BatchItemRequest": [query]})
    assert r.status_code == 429 and r.headers["retry-after"] == "7"


async def test_concurrency_limit(sb, us):
    sb.state.set_limits(max_concurrent=2)
    sb.state.set_faults("latency=0.3@1/read")
    async with httpx.AsyncClient(headers=dict(us.http.headers)) as client:
        url = str(us.http.base_url).rstrip("/") + "/preferences"
        answers = await asyncio.gather(*(client.get(url) for _ in range(4)))
    codes = sorted(a.status_code for a in answers)
    assert codes == [200, 200, 429, 429]


def test_server_errors_on_a_schedule(sb, us):
    sb.state.set_faults("503@#2,500@next:1")
    first = us.get("/preferences")
    assert first.status_code == 500 and first.json()["Fault"]["type"] == "SystemFault"
    assert us.get("/preferences").status_code == 503
    assert us.get("/preferences").status_code == 200


def test_probability_one_and_zero(sb, us):
    sb.state.set_faults([FaultRule("429", probability=1.0, scope="write")])
    assert us.get("/preferences").status_code == 200
    assert _cust(us).status_code == 429
    sb.state.set_faults("429@0/write")
    assert _cust(us).status_code == 200


def test_drop_before_write_leaves_nothing(sb, us):
    before = _count(us)
    sb.state.set_faults("drop-before@next:1/write")
    with pytest.raises(httpx.TransportError):
        _cust(us)
    assert _count(us) == before


def test_drop_after_commit_and_requestid_retry_does_not_duplicate(sb, us):
    before = _count(us)
    rid = str(uuid.uuid4())
    name = f"Dropped {uuid.uuid4().hex[:6]}"
    sb.state.set_faults("drop-after@next:1/write")
    with pytest.raises(httpx.TransportError):
        us.post("/customer", {"DisplayName": name}, requestid=rid)
    assert _count(us) == before + 1
    retry = us.post("/customer", {"DisplayName": name}, requestid=rid)
    assert retry.status_code == 200 and retry.json()["Customer"]["DisplayName"] == name
    assert _count(us) == before + 1
    assert us.post("/customer", {"DisplayName": name}).json()["Fault"]["Error"][0]["code"] == "6240"


def test_expire_token_fault_gives_401_until_refresh(sb, us):
    from tests.sandbox.conftest import connect

    tokens = connect(sb)
    headers = {"Authorization": "Bearer " + tokens["access_token"]}
    url = f"{sb.base_url}/v3/company/{tokens['realmId']}/preferences"
    sb.state.set_faults("expire-token@next:1")
    r = httpx.get(url, headers=headers)
    assert r.status_code == 401 and r.json()["fault"]["error"][0]["detail"].startswith("Token expired")
    assert httpx.get(url, headers=headers).status_code == 401
    fresh = httpx.post(sb.base_url + "/oauth2/v1/tokens/bearer",
                       data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
                       auth=(sb.client_id, sb.client_secret)).json()
    assert httpx.get(url, headers={"Authorization": "Bearer " + fresh["access_token"]}).status_code == 200


def test_spec_parsing():
    rules = parse_faults("500@0.1, latency=0.25@1/read, drop-after@#2+#4/write, expire-token@next:1, 503@every:3")
    assert [r.kind for r in rules] == ["500", "latency", "drop-after", "expire-token", "503"]
    assert rules[1].value == 0.25 and rules[1].scope == "read" and rules[2].at == (2, 4) and rules[4].every == 3
    for bad in ("boom@1", "500", "500@2", "500@0.5/sometimes"):
        with pytest.raises(SpecError):
            parse_faults(bad)
    limits = parse_limits("rpm=100,batch-items=10,window=1.5")
    assert (limits.requests_per_minute, limits.batch_items, limits.window, limits.max_concurrent) == (100, 10, 1.5, 10)
    assert parse_limits("off").requests_per_minute is None
    with pytest.raises(SpecError):
        parse_limits("speed=3")


def test_a_fault_can_target_one_entity(sb, us):
    sb.state.set_faults("503@1/write:payment")
    assert _cust(us).status_code == 200
    r = us.post("/payment", {"CustomerRef": {"value": "1"}, "TotalAmt": 1})
    assert r.status_code == 503
    rule = parse_faults("drop-after@#1/write:invoice")[0]
    assert (rule.scope, rule.entity) == ("write", "invoice")
