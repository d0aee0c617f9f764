"""Against the local QBO sandbox over real HTTP on 127.0.0.1: connect by paste, refresh and rotation,
a 401 after the sandbox's clock moves on, a revoked refresh token, paging, faults, the reference pull and
its diff, and the embedded default that a later run reconnects to."""

import logging

import httpx
import pytest

from core.errors import AuthError, ConnectError, PermanentError
from core.qbo import embedded, store
from core.qbo.client import escape_query_value
from core.qbo.connect import open_client
from core.services import qbo as svc
from core.settings import QBOSettings, SyncSettings
from tests.qbo.fakeqbo import make_firm


def for_sandbox(settings, sb):
    qbo = QBOSettings(environment="local", api_base=sb.base_url, client_id=sb.client_id,
                      client_secret=sb.client_secret, redirect_uri=sb.redirect_uri)
    # real QBO limits, but retry waits cut to 10 ms so the fault tests run fast
    sync = SyncSettings(max_backoff=0.01, default_retry_after=0.01)
    return settings.model_copy(update={"qbo": qbo, "sync": sync})


@pytest.fixture
def firm(settings, sandbox):
    f = make_firm(for_sandbox(settings, sandbox))
    yield f
    f.close()


async def connect(firm, sb, realm=None):
    pending = svc.begin_connect(firm)
    return await svc.complete_connect_async(firm, sb.approve(pending.url, realm))


async def test_connect_by_paste_probe_and_pull(firm, sandbox):
    realm = sandbox.realm_ids["US"]
    info = await connect(firm, sandbox, realm)
    assert info.realm_id == realm and info.company_name and info.environment == "local"
    assert info.probe.ok, info.probe.message
    diff = await svc.pull_reference_async(firm)
    counts = dict(diff.counts)
    assert counts["Account"] > 0 and counts["TaxCode"] > 0 and counts["Item"] > 0
    steps = {s.id: s for s in svc.qbo_steps(firm)}
    assert steps["qbo_connected"].ok and steps["qbo_zero_tax"].ok


async def test_wrong_state_and_replayed_code(firm, sandbox):
    pending = svc.begin_connect(firm)
    url = sandbox.approve(pending.url)
    with pytest.raises(Exception, match="state does not match"):
        await svc.complete_connect_async(firm, url.replace("state=", "state=zz"))
    await svc.complete_connect_async(firm, url)
    with pytest.raises(Exception, match="already finished"):
        await svc.complete_connect_async(firm, url)


async def test_denied_consent_and_missing_realm_from_the_sandbox(firm, sandbox):
    pending = svc.begin_connect(firm)
    with pytest.raises(ConnectError, match="declined"):
        await svc.complete_connect_async(firm, sandbox.approve(pending.url, deny=True))
    pending = svc.begin_connect(firm)
    url = sandbox.approve(pending.url)
    without_realm = url.replace("realmId=", "company=")
    with pytest.raises(ConnectError, match="no realmId"):
        await svc.complete_connect_async(firm, without_realm)
    assert store.load_connection(firm.db) is None


async def token_post(sb, data):
    async with httpx.AsyncClient() as client:
        return await client.post(sb.base_url + "/oauth2/v1/tokens/bearer", data=data,
                                 auth=(sb.client_id, sb.client_secret))


async def test_refresh_before_expiry_rotates_and_saves(firm, sandbox):
    await connect(firm, sandbox)
    before = store.load_connection(firm.db)
    firm.db.execute("UPDATE qbo_connection SET access_expires_at = 0")
    client = await open_client(firm)
    async with client:
        await client.preferences()
    after = store.load_connection(firm.db)
    assert after.refresh_token != before.refresh_token and after.last_refresh_at
    old = await token_post(sandbox, {"grant_type": "refresh_token", "refresh_token": before.refresh_token})
    assert old.status_code == 400 and old.json()["error"] == "invalid_grant"  # rotated away at the sandbox


async def test_401_after_expiry_refreshes_once(firm, sandbox):
    await connect(firm, sandbox)
    sandbox.state.advance(3700)  # the sandbox's access token has expired; ours does not know yet
    client = await open_client(firm)
    async with client:
        assert (await client.company_info())["CompanyName"]
        assert client.auth.refresh_count == 1


async def test_revoked_refresh_token_means_reconnect(firm, sandbox):
    await connect(firm, sandbox)
    conn = store.load_connection(firm.db)
    async with httpx.AsyncClient() as http:
        r = await http.post(sandbox.base_url + "/v2/oauth2/tokens/revoke", json={"token": conn.refresh_token},
                            auth=(sandbox.client_id, sandbox.client_secret))
    assert r.status_code == 200
    firm.db.execute("UPDATE qbo_connection SET access_expires_at = 0")
    client = await open_client(firm)
    async with client:
        with pytest.raises(AuthError, match="Reconnect to QuickBooks"):
            await client.preferences()
    assert store.load_connection(firm.db).realm_id == conn.realm_id


async def test_paging_escaping_and_faults(firm, sandbox):
    await connect(firm, sandbox)
    client = await open_client(firm)
    async with client:
        names = [f"Pager {i:03d}" for i in range(130)] + ["O'Malley's Pager Test"]
        for start in range(0, len(names), 30):
            chunk = names[start : start + 30]
            out = await client.batch(
                [{"bId": str(i), "operation": "create", "Customer": {"DisplayName": n}} for i, n in enumerate(chunk)],
                requestid=f"pager-{start}",
            )
            assert all("Customer" in o for o in out), [o for o in out if "Customer" not in o]
        rows = await client.query_all("Customer", where="DisplayName LIKE 'Pager%'", page_size=50)
        assert sorted(r["DisplayName"] for r in rows) == names[:130]
        found = await client.query(
            f"SELECT * FROM Customer WHERE DisplayName = '{escape_query_value(names[-1])}'")
        assert found["Customer"][0]["DisplayName"] == names[-1]
        with pytest.raises(PermanentError) as info:
            await client.query("SELECT * FROM Custmoer")
        assert info.value.code == "4001"
        with pytest.raises(PermanentError) as info:
            await client.create("Customer", {"DisplayName": names[0]}, requestid="dup-1")
        assert info.value.code == "6240"


async def test_refresh_diff_against_the_sandbox(firm, sandbox):
    await connect(firm, sandbox)
    await svc.pull_reference_async(firm)
    client = await open_client(firm)
    async with client:
        items = [i for i in await client.query_all("Item") if i.get("Type") == "Service"]
        renamed, retired = items[0], items[1]
        await client.sparse_update("Item", {"Id": renamed["Id"], "SyncToken": renamed["SyncToken"],
                                            "Name": "Renamed Service"}, requestid="rename-1")
        await client.sparse_update("Item", {"Id": retired["Id"], "SyncToken": retired["SyncToken"],
                                            "Active": False}, requestid="retire-1")
        created = await client.create("Item", {"Name": "Mediation", "Type": "Service",
                                               "IncomeAccountRef": renamed["IncomeAccountRef"]}, requestid="new-1")
    ledger = firm.db.execute("SELECT id FROM accounts WHERE code = '4000'").fetchone()[0]
    svc.set_mapping(firm, "sales", ledger, retired["Id"])
    diff = await svc.pull_reference_async(firm)
    assert [(c.qbo_id, c.name) for c in diff.renamed] == [(renamed["Id"], "Renamed Service")]
    assert [c.qbo_id for c in diff.inactive] == [retired["Id"]]
    assert ("Item", created["Id"]) in [(c.entity, c.qbo_id) for c in diff.new]
    assert [(f.ledger_id, f.problem) for f in diff.flagged] == [(ledger, "inactive")]
    assert [r.status for r in svc.list_map(firm, "sales") if r.ledger_id == ledger] == ["inactive"]


async def test_embedded_default_reconnects_on_a_later_run(settings):
    firm = make_firm(settings)  # no client id configured: the built-in sandbox
    try:
        assert embedded.uses_embedded(firm.settings)
        pending = svc.begin_connect(firm)
        first_base = embedded.embedded_sandbox(firm.settings).base_url
        assert pending.url.startswith(first_base + "/connect/oauth2?")
        info = await svc.complete_connect_async(firm, svc.approve_locally(firm, pending))
        assert info.environment == "local" and info.probe.ok
        embedded.stop_all()  # the process ends; the next run gets another port
        client = await open_client(firm)
        async with client:
            assert (await client.company_info())["CompanyName"] == info.company_name
    finally:
        embedded.stop_all()
        firm.close()


async def test_injected_faults_are_retried_without_duplicates(firm, sandbox, caplog):
    await connect(firm, sandbox)
    caplog.set_level(logging.INFO, logger="core.qbo")
    sandbox.state.set_faults("503@next:2/read,429@#3/read,drop-before@#1/write,drop-after@#2/write,expire-token@#4")
    client = await open_client(firm)
    async with client:
        for _ in range(3):
            assert (await client.preferences())["Id"]
        first = await client.create("Customer", {"DisplayName": "Dropped Before"}, requestid="fault-c1")
        second = await client.create("Customer", {"DisplayName": "Dropped After"}, requestid="fault-c2")
        sandbox.state.set_faults(None)
        for name, made in (("Dropped Before", first), ("Dropped After", second)):
            rows = (await client.query(f"SELECT * FROM Customer WHERE DisplayName = '{name}'")).get("Customer", [])
            assert [r["Id"] for r in rows] == [made["Id"]]  # exactly one copy each
        retried = [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()]
        assert len(retried) >= 4, retried  # 503, 503, 429, the two dropped connections
        assert client.auth.refresh_count >= 1  # the expired token was refreshed on its 401


async def test_embedded_connect_picks_the_company_of_the_firms_country(settings):
    from core.ledger.demo import ensure_ready
    from core.ledger.firm import create_firm

    firm = create_firm(settings, "UK", name="Hale & Co")
    ensure_ready(firm)
    try:
        pending = svc.begin_connect(firm)
        info = await svc.complete_connect_async(firm, svc.approve_locally(firm, pending))
        assert info.realm_id == embedded.embedded_sandbox(firm.settings).realm_ids["UK"]
    finally:
        embedded.stop_all()
        firm.close()
