"""QBOClient over httpx.MockTransport: paging, escaping, Decimal, retries with pinned jitter, 401 refresh."""

import json
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from core.errors import AuthError, PermanentError, TransientError
from core.qbo.client import QBOClient, dumps, escape_query_value
from core.qbo.limiter import Limiter
from core.qbo.retry import RetryPolicy, jitter
from tests.qbo.fakes import FakeClock
from tests.fixtures import sample

THROTTLE = sample("Fault-429-3001-throttle.xml")
AUTH_401 = sample("Fault-401-3200-auth.json")


def make_client(handler, *, auth=None, max_attempts=4):
    clock = FakeClock()
    policy = RetryPolicy(max_attempts=max_attempts, base_delay=1.0, max_backoff=8.0, jitter=lambda d: d, sleep=clock.sleep)
    client = QBOClient(
        http=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
        api_base="http://qbo.test", realm_id="123", limiter=Limiter(clock=clock), retry=policy, auth=auth,
    )
    return client, clock


def customers(n):
    return [{"Id": str(i), "DisplayName": f"C{i}", "Balance": Decimal("1.10")} for i in range(1, n + 1)]


async def test_query_all_pages_past_the_first_thousand():
    rows = customers(2345)
    seen = []

    def handler(request):
        q = parse_qs(urlsplit(str(request.url)).query)
        statement = q["query"][0]
        assert q["minorversion"] == ["75"]
        seen.append(statement)
        start = int(statement.split("STARTPOSITION ")[1].split()[0])
        size = int(statement.split("MAXRESULTS ")[1])
        page = rows[start - 1 : start - 1 + size]
        body = {"QueryResponse": {"Customer": page, "startPosition": start, "maxResults": len(page)}} if page else {"QueryResponse": {}}
        return httpx.Response(200, text=dumps(body))

    client, _ = make_client(handler)
    async with client:
        got = await client.query_all("Customer", where="Active = true")
    assert [c["Id"] for c in got] == [str(i) for i in range(1, 2346)]
    assert len(seen) == 3 and all("MAXRESULTS 1000" in s for s in seen)
    assert seen[0] == "SELECT * FROM Customer WHERE Active = true STARTPOSITION 1 MAXRESULTS 1000"
    assert got[0]["Balance"] == Decimal("1.10")  # numbers parsed as Decimal, never float


def test_escape_query_value():
    assert escape_query_value("Amy's Bird Sanctuary") == "Amy\\'s Bird Sanctuary"


def test_dumps_writes_decimals_exactly_and_refuses_floats():
    assert dumps({"Amount": Decimal("337.50"), "Qty": Decimal("4.5"), "n": [Decimal("-0.01")]}) == '{"Amount":337.50,"Qty":4.5,"n":[-0.01]}'
    with pytest.raises(TypeError):
        dumps({"Amount": 1.5})
    assert dumps({"Amount": Decimal("337.50")}, indent=2) == '{\n  "Amount": 337.50\n}'  # for people (dry run)


async def test_429_without_hint_waits_60s_then_succeeds():
    answers = [httpx.Response(429, text=THROTTLE), httpx.Response(200, json={"Invoice": {"Id": "9"}})]

    client, clock = make_client(lambda r: answers.pop(0))
    async with client:
        inv = await client.create("Invoice", {"Line": []}, requestid="doc-1-v1-g0")
    assert inv == {"Id": "9"}
    assert clock.sleeps == [60.0]


async def test_retry_after_is_obeyed():
    answers = [httpx.Response(503, headers={"Retry-After": "3"}, text="busy"), httpx.Response(200, json={"Item": {"Id": "1"}})]
    client, clock = make_client(lambda r: answers.pop(0))
    async with client:
        await client.read("Item", "1")
    assert clock.sleeps == [3.0]


async def test_5xx_backoff_is_exponential_capped_then_transient_error():
    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(500, text="oops")

    client, clock = make_client(handler, max_attempts=6)
    async with client:
        with pytest.raises(TransientError):
            await client.read("Item", "1")
    assert len(calls) == 6
    assert clock.sleeps == [1.0, 2.0, 4.0, 8.0, 8.0]  # doubled, capped at max_backoff (jitter pinned)


def test_jitter_stays_between_half_and_whole():
    for _ in range(200):
        assert 5.0 <= jitter(10.0) <= 10.0


async def test_network_error_retried_for_reads_and_requestid_writes_only():
    calls = {"n": 0}

    def flaky(request):
        calls["n"] += 1
        if calls["n"] == 1:
            raise httpx.ConnectError("refused")
        return httpx.Response(200, json={"Customer": {"Id": "5"}})

    client, _ = make_client(flaky)
    async with client:
        assert (await client.create("Customer", {"DisplayName": "A"}, requestid="r1"))["Id"] == "5"

    calls["n"] = 0
    client, _ = make_client(flaky)
    async with client:
        with pytest.raises(TransientError):  # no requestid: a retry could create a second copy
            await client.create("Customer", {"DisplayName": "A"}, requestid=None)
    assert calls["n"] == 1


async def test_permanent_errors_are_not_retried_and_carry_the_request():
    calls = []
    fault = sample("Fault-6240-duplicate-name.json")

    def handler(request):
        calls.append(request)
        return httpx.Response(400, text=fault, headers={"intuit_tid": "tid-1"})

    client, _ = make_client(handler)
    async with client:
        with pytest.raises(PermanentError) as info:
            await client.create("Customer", {"DisplayName": "Weiskopf"}, requestid="r2")
    assert len(calls) == 1
    assert info.value.code == "6240" and info.value.intuit_tid == "tid-1"
    assert info.value.request["path"] == "customer" and "Weiskopf" in info.value.request["body"]


class FakeTokens:
    def __init__(self):
        self.refreshes = 0
        self.fresh_checks = 0

    async def ensure_fresh(self):
        self.fresh_checks += 1

    async def refresh_after_401(self):
        self.refreshes += 1

    def secrets(self):
        return ("AB01601390262kxzxOlnHYdhtEVRXISU7piPqQrCmmbDN35Yjd",)


async def test_401_refreshes_once_then_succeeds():
    answers = [httpx.Response(401, text=AUTH_401), httpx.Response(200, json={"Preferences": {"Id": "1"}})]
    tokens = FakeTokens()
    client, _ = make_client(lambda r: answers.pop(0), auth=tokens)
    async with client:
        assert (await client.preferences())["Id"] == "1"
    assert tokens.refreshes == 1


async def test_a_401_that_outlives_three_refreshes_is_an_auth_error_without_the_token():
    tokens = FakeTokens()
    client, _ = make_client(lambda r: httpx.Response(401, text=AUTH_401), auth=tokens)
    async with client:
        with pytest.raises(AuthError) as info:
            await client.preferences()
    assert tokens.refreshes == 3
    assert "AB01601390262kxzx" not in str(info.value)


async def test_a_token_that_dies_again_right_after_its_refresh_is_refreshed_again():
    answers = [httpx.Response(401, text=AUTH_401)] * 2 + [httpx.Response(200, json={"Preferences": {"Id": "1"}})]
    tokens = FakeTokens()
    client, _ = make_client(lambda r: answers.pop(0), auth=tokens)
    async with client:
        assert (await client.preferences())["Id"] == "1"
    assert tokens.refreshes == 2


async def test_batch_limits_and_item_faults():
    def handler(request):
        body = json.loads(request.content)
        assert len(body["BatchItemRequest"]) == 2
        return httpx.Response(200, json={"BatchItemResponse": [
            {"bId": "1", "Customer": {"Id": "1"}},
            {"bId": "2", "Fault": {"Error": [{"Message": "Stale Object Error", "code": "5010"}], "type": "ValidationFault"}},
        ]})

    client, _ = make_client(handler)
    async with client:
        out = await client.batch([{"bId": "1", "operation": "create", "Customer": {}},
                                  {"bId": "2", "operation": "update", "Customer": {}}], requestid="b1")
        assert [o["bId"] for o in out] == ["1", "2"]
        with pytest.raises(ValueError):
            await client.batch([{"bId": str(i)} for i in range(31)])
    assert client.limiter.stats().batches_this_minute == 1


async def test_urls_and_operations():
    seen = []

    def handler(request):
        seen.append((request.method, urlsplit(str(request.url)).path, parse_qs(urlsplit(str(request.url)).query),
                     request.content))
        name = urlsplit(str(request.url)).path.split("/")[4]
        key = {"invoice": "Invoice", "companyinfo": "CompanyInfo"}[name]
        return httpx.Response(200, json={key: {"Id": "7"}})

    client, _ = make_client(handler)
    async with client:
        await client.delete("Invoice", "7", "2", requestid="d1")
        await client.void_invoice("7", "3", requestid="v1")
        await client.sparse_update("Invoice", {"Id": "7", "SyncToken": "4", "PrivateNote": "x"}, requestid="u1")
        await client.company_info()
    assert seen[0][:2] == ("POST", "/v3/company/123/invoice") and seen[0][2]["operation"] == ["delete"]
    assert json.loads(seen[0][3]) == {"Id": "7", "SyncToken": "2"} and seen[0][2]["requestid"] == ["d1"]
    assert seen[1][2]["operation"] == ["void"]
    assert json.loads(seen[2][3])["sparse"] is True
    assert seen[3][1] == "/v3/company/123/companyinfo/123"
