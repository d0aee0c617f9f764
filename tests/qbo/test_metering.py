"""Metered reads (reference 5.15): every CorePlus call the client sends is counted per company per calendar month
in the firm database (GETs, queries, CDC, CompanyInfo, Preferences, each query item of a batch; writes and OAuth
are not), and status shows the month against the budget, warning from 80%."""

import json
from decimal import Decimal

import httpx
import pytest

from core.cli import main
from core.qbo import store
from core.qbo.client import QBOClient
from core.qbo.connect import begin_connect, complete_connect_async
from core.qbo.limiter import Limiter
from core.qbo.metering import Meter, metered_reads, month_of
from core.qbo.retry import RetryPolicy
from core.services import qbo as svc
from core.services.setup import status_json
from tests.qbo.fakeqbo import fake, firm  # noqa: F401  (fixtures)
from tests.qbo.fakes import FakeClock

DEC_2026 = 1796083200.0 + 5 * 86400  # 2026-12-06
JAN_2027 = 1798761600.0 + 3600  # 2027-01-01 01:00 UTC


def counting_client(handler, meter):
    clock = FakeClock()
    return QBOClient(http=httpx.AsyncClient(transport=httpx.MockTransport(handler)), api_base="http://qbo.test",
                     realm_id="123", limiter=Limiter(clock=clock),
                     retry=RetryPolicy(jitter=lambda d: d, sleep=clock.sleep), meter=meter)


async def test_each_metered_call_is_counted_and_writes_are_not():
    answers = {"GET": {"Invoice": {"Id": "1"}, "Customer": {"Id": "7"}, "CompanyInfo": {}, "Preferences": {},
                       "QueryResponse": {}},
               "POST": {"Invoice": {"Id": "2"}, "QueryResponse": {}, "BatchItemResponse": []}}
    flaky = [httpx.Response(503, text="{}")]

    def handler(request):
        if request.url.path.endswith("/customer/7") and flaky:
            return flaky.pop()
        return httpx.Response(200, json=answers[request.method])

    counted: list[int] = []
    async with counting_client(handler, counted.append) as client:
        await client.read("Invoice", "1")
        await client.query("SELECT * FROM Customer")
        await client.request("GET", "cdc", params={"entities": "Invoice", "changedSince": "2026-12-01"})
        await client.request("GET", "reports/ProfitAndLoss")
        await client.company_info()
        await client.preferences()
        await client.request("POST", "query", content="SELECT * FROM Item")
        assert sum(counted) == 7
        await client.create("Invoice", {"Line": [], "TotalAmt": Decimal("1.00")}, requestid="r1")
        await client.batch([{"bId": "1", "Query": "SELECT * FROM Item"}, {"bId": "2", "Query": "SELECT * FROM Vendor"},
                            {"bId": "3", "operation": "create", "Invoice": {}}], requestid="b1")
        assert sum(counted) == 9  # the create is free; the batch is its two query items
        await client.read("Customer", "7")  # a 503, then the answer: both were sent, both count
    assert sum(counted) == 11


def test_counts_persist_per_company_and_calendar_month(firm):
    clock = FakeClock(DEC_2026)
    meter = Meter(firm.db, "123", clock=clock.time)
    meter(3)
    meter(0)
    Meter(firm.db, "123", clock=clock.time)(2)  # another process, the same month
    Meter(firm.db, "999", clock=clock.time)(5)  # another company
    clock.now = JAN_2027
    meter(1)
    assert month_of(DEC_2026) == "2026-12" and month_of(JAN_2027) == "2027-01"
    assert metered_reads(firm.db, "123", 500_000, now=DEC_2026).count == 5
    assert metered_reads(firm.db, "123", 500_000, now=JAN_2027).count == 1
    assert metered_reads(firm.db, "999", 500_000, now=DEC_2026).count == 5


def test_a_count_the_database_cannot_take_now_is_added_with_the_next(firm, tmp_path):
    import sqlite3

    holder = sqlite3.connect(firm.settings.db, timeout=0)
    meter = Meter(firm.db, "123")
    firm.db.execute("PRAGMA busy_timeout = 0")
    holder.execute("BEGIN IMMEDIATE")
    meter(4)  # the firm database is locked by another writer: kept, no error
    holder.execute("ROLLBACK")
    holder.close()
    meter(1)
    assert metered_reads(firm.db, "123", 500_000).count == 5


async def test_connect_and_pull_are_counted_and_status_warns_from_80_percent(firm, fake, capsys, monkeypatch):
    app = fake.app()
    pending = begin_connect(firm, app)
    await complete_connect_async(firm, fake.approve(pending.url), app)
    await svc.pull_reference_async(firm, app=app)
    realm = store.load_connection(firm.db).realm_id
    reads = status_json(firm)["metered_reads"]
    assert reads["count"] == len(fake.api_calls) > 5  # every call the fake answered was a read; OAuth is not counted
    assert (reads["month"], reads["budget"], reads["warning"]) == (month_of(__import__("time").time()), 500_000, False)

    firm.db.execute("UPDATE qbo_metered_reads SET count = 400000 WHERE realm_id = ?", [realm])
    assert status_json(firm)["metered_reads"]["warning"] is True  # 80% of 500,000
    monkeypatch.setenv("LEDGERLINK_SYNC__METERED_READS_BUDGET", "1000000")
    assert main(["--db", str(firm.settings.db), "status", "--json"]) == 0
    reads = json.loads(capsys.readouterr().out)["metered_reads"]
    assert (reads["count"], reads["budget"], reads["warning"]) == (400000, 1000000, False)
    assert main(["--db", str(firm.settings.db), "status"]) == 0
    assert f"Metered QuickBooks reads in {reads['month']}: 400,000 of 1,000,000 a month." in capsys.readouterr().out
    monkeypatch.setenv("LEDGERLINK_SYNC__METERED_READS_BUDGET", "450000")
    assert main(["--db", str(firm.settings.db), "status"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "[!] Metered QuickBooks reads in" in out and "400,000 of 450,000 a month (88%)" in out


@pytest.mark.parametrize("value", ["0", "12", "lots"])
def test_a_bad_budget_is_refused_naming_the_setting(firm, capsys, monkeypatch, value):
    monkeypatch.setenv("LEDGERLINK_SYNC__METERED_READS_BUDGET", value)
    assert main(["--db", str(firm.settings.db), "status"]) != 0
    err = capsys.readouterr().err
    assert "metered_reads_budget" in err and "Traceback" not in err


def test_status_without_a_connection_has_no_metered_reads(firm):
    assert status_json(firm)["metered_reads"] is None
