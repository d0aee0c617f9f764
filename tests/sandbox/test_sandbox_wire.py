"""Bodies cut short are never acted on; metered (CorePlus) reads are counted and capped (5.15); CDC (1.6)."""

from __future__ import annotations

import socket
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

from core.sandbox import entities
from tests.sandbox.conftest import settings_of


def _exists(api, name: str) -> bool:
    return api.ok(api.query(f"select count(*) from Customer where DisplayName = '{name}'"))["QueryResponse"]["totalCount"] == 1


def test_a_body_shorter_than_its_content_length_is_never_acted_on(sb, us):
    name = f"Cut {uuid.uuid4().hex[:8]}"
    body = ('{"DisplayName": "%s"}' % name).encode()
    url = urlsplit(sb.base_url)
    head = (f"POST /v3/company/{us.realm}/customer?minorversion=75 HTTP/1.1\r\nHost: {url.netloc}\r\n"
            f"Authorization: Bearer {us.tokens['access_token']}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body) + 40}\r\n\r\n").encode()
    with socket.create_connection((url.hostname, url.port), timeout=10) as conn:
        conn.sendall(head + body)
        conn.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    assert b" 200 " not in answer.split(b"\r\n", 1)[0]
    assert not _exists(us, name)


def test_a_body_that_is_not_json_is_refused_and_changes_nothing(us):
    name = f"Half {uuid.uuid4().hex[:8]}"
    r = us.http.post("/customer", content=('{"DisplayName": "%s"' % name).encode(),
                     headers={"Content-Type": "application/json"}, params={"minorversion": "75"})
    assert r.status_code == 400 and r.json()["Fault"]["Error"][0]["code"] == "2010"
    batch = ('{"BatchItemRequest": [{"bId": "1", "operation": "create", "Customer": {"DisplayName": "%s"}}, {"bId": "2"'
             % name).encode()
    r = us.http.post("/batch", content=batch, headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert not _exists(us, name)


def test_corePlus_calls_are_counted_per_company_and_writes_are_not(sb, us, uk):
    before, other = sb.state.metered(us.realm), sb.state.metered(uk.realm)
    us.ok(us.get("/customer/1"))
    us.ok(us.query("select * from Account MAXRESULTS 1"))
    us.ok(us.http.post("/query", content=b"select count(*) from Item", headers={"Content-Type": "application/text"}))
    us.ok(us.get("/preferences"))
    us.ok(us.get(f"/companyinfo/{us.realm}"))
    since = (datetime.now(timezone.utc) - timedelta(minutes=1)).isoformat(timespec="seconds")
    us.ok(us.get("/cdc", entities="Customer", changedSince=since))
    assert sb.state.metered(us.realm) == before + 6
    us.create("Customer", {"DisplayName": f"Meter {uuid.uuid4().hex[:8]}"})
    assert sb.state.metered(us.realm) == before + 6  # a write is Core, not CorePlus
    r = us.post("/batch", {"BatchItemRequest": [
        {"bId": "a", "Query": "select * from Customer MAXRESULTS 1"},
        {"bId": "b", "Query": "select * from Item MAXRESULTS 1"},
        {"bId": "c", "operation": "create", "Customer": {"DisplayName": f"Meter {uuid.uuid4().hex[:8]}"}}]})
    us.ok(r)
    assert sb.state.metered(us.realm) == before + 8  # each query item counts
    assert sb.state.metered(uk.realm) == other


def test_beyond_the_monthly_cap_corePlus_calls_get_429_and_writes_still_go(sb, us):
    settings_of(us)["metered_cap"] = sb.state.metered(us.realm) + 1
    us.ok(us.get("/customer/1"))
    refused = us.get("/customer/1")
    assert refused.status_code == 429 and "ThrottleExceeded" in refused.text
    assert us.query("select * from Item").status_code == 429
    us.create("Customer", {"DisplayName": f"Capped {uuid.uuid4().hex[:8]}"})
    items = us.ok(us.post("/batch", {"BatchItemRequest": [{"bId": "q", "Query": "select * from Item"}]}))
    assert items["BatchItemResponse"][0]["Fault"]["Error"][0]["code"] == "3001"
    settings_of(us)["metered_cap"] = None
    us.ok(us.get("/customer/1"))


def test_cdc_goes_back_at_most_30_days_and_returns_at_most_1000_objects(sb, us):
    old = (datetime.now(timezone.utc) - timedelta(days=31)).isoformat(timespec="seconds")
    assert us.fault(us.get("/cdc", entities="Customer", changedSince=old))["code"] == "4001"
    since = datetime.now(timezone.utc).isoformat(timespec="seconds")
    company = sb.state.company(us.realm)
    with sb.state.atomic():
        for n in range(1001):
            entities.write(company, "Customer", "create", {"DisplayName": f"CDC {n} {uuid.uuid4().hex[:6]}"})
    body = us.ok(us.get("/cdc", entities="Customer,Item", changedSince=since))
    customers, items = body["CDCResponse"][0]["QueryResponse"]
    assert len(customers["Customer"]) == 1000 and items == {}


def test_the_metered_count_is_readable_over_http_for_a_sandbox_in_another_process(sb, us):
    import httpx

    us.ok(us.get("/customer/1"))
    r = httpx.get(f"{sb.base_url}/_sandbox/metered/{us.realm}")
    assert r.status_code == 200 and r.json()["calls"] == sb.state.metered(us.realm) > 0
    assert httpx.get(f"{sb.base_url}/_sandbox/metered/0000").status_code == 404
