"""Connecting by pasting the redirect URL (and every way it can go wrong), token refresh and rotation,
a rejected refresh token, the permission probe and disconnecting, against an in-memory Intuit."""

import pytest

from core.errors import AuthError, ConnectError
from core.qbo import store
from core.qbo.connect import PENDING_TTL, begin_connect, complete_connect_async, latest_pending, open_client
from core.services import qbo as svc
from tests.qbo.fakeqbo import BASE, fake, firm  # noqa: F401  (fixtures)


async def connect(firm, fake):
    app = fake.app()
    pending = begin_connect(firm, app)
    return await complete_connect_async(firm, fake.approve(pending.url), app)


async def test_connect_by_pasting_the_redirect_url(firm, fake):
    app = fake.app()
    pending = begin_connect(firm, app)
    assert pending.url.startswith(BASE + "/connect/oauth2?")
    assert "response_type=code" in pending.url and f"state={pending.state}" in pending.url
    assert "com.intuit.quickbooks.accounting" in pending.url.replace("+", " ")
    assert "█" in pending.qr_text and pending.loopback
    assert latest_pending(firm).state == pending.state  # the TUI can finish what the CLI started
    info = await complete_connect_async(firm, "  " + fake.approve(pending.url) + "\n", app)
    assert (info.realm_id, info.company_name, info.environment) == (fake.realm, "Fake Law Co", "sandbox")
    assert info.probe.ok and info.probe.missing == ()
    assert info.access_token_expires_at and info.refresh_token_expires_at
    assert latest_pending(firm) is None
    conn = store.load_connection(firm.db)
    assert conn.refresh_token in fake.refresh_tokens and fake.refresh_tokens[conn.refresh_token]


async def test_a_bare_query_string_or_params_also_work(firm, fake):
    app = fake.app()
    pending = begin_connect(firm, app)
    query = fake.approve(pending.url).split("?", 1)[1]
    info = await complete_connect_async(firm, query, app)
    assert info.realm_id == fake.realm


@pytest.mark.parametrize(
    "mangle, message",
    [
        (lambda url: url.replace("state=", "state=x"), "state does not match"),
        (lambda url: url.split("?")[0] + "?error=access_denied&state=" + url.split("state=")[1].split("&")[0], "declined"),
        (lambda url: url.split("&realmId=")[0], "no realmId"),
        (lambda url: "copied the wrong thing", "does not look like the address"),
        (lambda url: "", "does not look like the address"),
        (lambda url: url.replace("code=", "cod="), "no code="),
    ],
    ids=["wrong-state", "access-denied", "no-realm", "garbled", "empty", "no-code"],
)
async def test_each_bad_paste_has_its_own_message(firm, fake, mangle, message):
    app = fake.app()
    pending = begin_connect(firm, app)
    with pytest.raises(ConnectError) as info:
        await complete_connect_async(firm, mangle(fake.approve(pending.url)), app)
    assert message in str(info.value)
    assert store.load_connection(firm.db) is None


async def test_expired_and_reused_attempts(firm, fake):
    app = fake.app()
    pending = begin_connect(firm, app, clock=lambda: 1_000_000)
    with pytest.raises(ConnectError, match="expired"):
        await complete_connect_async(firm, fake.approve(pending.url), app, clock=lambda: 1_000_001 + PENDING_TTL)
    pending = begin_connect(firm, app)
    url = fake.approve(pending.url)
    await complete_connect_async(firm, url, app)
    with pytest.raises(ConnectError, match="already finished"):
        await complete_connect_async(firm, url, app)


async def test_access_token_refreshed_before_expiry_and_rotation_saved(firm, fake):
    await connect(firm, fake)
    before = store.load_connection(firm.db)
    firm.db.execute("UPDATE qbo_connection SET access_expires_at = 0")
    client = await open_client(firm, fake.app())
    async with client:
        await client.preferences()
        await client.preferences()
    after = store.load_connection(firm.db)
    assert fake.token_calls.count("refresh_token") == 1
    assert after.refresh_token != before.refresh_token and after.access_token != before.access_token
    assert fake.refresh_tokens[before.refresh_token] is False  # the old one no longer works at Intuit
    assert after.last_refresh_at and after.access_expires_at > 0


async def test_401_refreshes_once(firm, fake):
    await connect(firm, fake)
    fake.expire_access_tokens()
    client = await open_client(firm, fake.app())
    async with client:
        assert (await client.company_info())["CompanyName"] == "Fake Law Co"
    assert fake.token_calls.count("refresh_token") == 1


async def test_a_second_process_uses_the_rotated_token_instead_of_refreshing_again(firm, fake):
    await connect(firm, fake)
    firm.db.execute("UPDATE qbo_connection SET access_expires_at = 0")
    first = await open_client(firm, fake.app())
    second = await open_client(firm, fake.app())  # loaded the same, now stale, tokens
    async with first, second:
        await first.preferences()
        await second.preferences()
    assert fake.token_calls.count("refresh_token") == 1


async def test_rejected_refresh_token_says_reconnect_and_loses_nothing(firm, fake):
    await connect(firm, fake)
    firm.db.execute(
        "INSERT INTO sync_queue (doc_type, doc_id, version, action, updated_at) VALUES ('invoice', 1, 1, 'upsert', 'now')"
    )
    conn = store.load_connection(firm.db)
    fake.refresh_tokens[conn.refresh_token] = False
    firm.db.execute("UPDATE qbo_connection SET access_expires_at = 0")
    client = await open_client(firm, fake.app())
    async with client:
        with pytest.raises(AuthError) as info:
            await client.preferences()
    assert "Reconnect to QuickBooks" in str(info.value)
    kept = store.load_connection(firm.db)
    assert kept.realm_id == conn.realm_id and kept.refresh_token == conn.refresh_token
    assert kept.token_status == "rejected"
    assert firm.db.execute("SELECT count(*) FROM sync_queue").fetchone()[0] == 1
    steps = {s.id: s for s in svc.qbo_steps(firm)}
    assert not steps["qbo_connected"].ok and "reconnect" in steps["qbo_connected"].message


async def test_probe_names_what_the_user_cannot_read(firm, fake):
    fake.forbidden = {"Item", "preferences"}
    info = await connect(firm, fake)
    assert not info.probe.ok
    assert info.probe.missing == ("preferences", "products and services")
    assert "admin" in info.probe.message


async def test_open_client_without_connection(firm, fake):
    with pytest.raises(AuthError, match="not connected"):
        await open_client(firm, fake.app())


async def test_disconnect_revokes_and_forgets(firm, fake):
    await connect(firm, fake)
    refresh = store.load_connection(firm.db).refresh_token
    result = await svc.disconnect_async(firm, purge=True, app=fake.app())
    assert result.revoked and result.was_connected
    assert fake.revoked == [refresh]
    assert store.load_connection(firm.db) is None and svc.connection(firm) is None
    assert "Disconnected" in result.message and "Forgot" in result.message
    again = await svc.disconnect_async(firm, app=fake.app())
    assert not again.was_connected


async def test_connecting_another_company_forgets_the_old_maps(firm, fake):
    await connect(firm, fake)
    await svc.pull_reference_async(firm, app=fake.app())
    from tests.qbo.fakeqbo import account_id

    svc.set_mapping(firm, "sales", account_id(firm, "4000"), "1")
    app = fake.app()
    pending = begin_connect(firm, app)
    await complete_connect_async(firm, fake.approve(pending.url, realm="555"), app)
    assert firm.db.execute("SELECT count(*) FROM qbo_maps").fetchone()[0] == 0
    assert firm.db.execute("SELECT count(*) FROM qbo_items").fetchone()[0] == 0


async def test_token_health_in_status_and_an_expiring_authorization_warns(firm, fake):
    from core.services.setup import status_json

    await connect(firm, fake)
    await svc.pull_reference_async(firm, app=fake.app())
    connection = status_json(firm)["connection"]
    assert connection["realm_id"] == fake.realm and connection["company_name"] == "Fake Law Co"
    assert connection["access_token_expires_at"] and connection["refresh_token_expires_at"]
    assert connection["last_refresh_at"]
    import time

    firm.db.execute("UPDATE qbo_connection SET refresh_expires_at = ?", [int(time.time()) + 3 * 86400])
    step = svc.qbo_steps(firm)[0]
    assert step.ok and step.state == "warning" and "authorization expires in 2 days:" in step.message
    firm.db.execute("UPDATE qbo_connection SET refresh_expires_at = ?", [int(time.time()) + 3600])
    assert "authorization expires within a day:" in svc.qbo_steps(firm)[0].message  # not "in 0 days"
    firm.db.execute("UPDATE qbo_connection SET refresh_expires_at = ?", [int(time.time()) - 1])
    step = svc.qbo_steps(firm)[0]
    assert not step.ok and "expired" in step.message


async def test_a_refresh_racing_another_process_takes_the_tokens_it_commits(firm, fake):
    import asyncio

    await connect(firm, fake)
    conn = store.load_connection(firm.db)
    firm.db.execute("UPDATE qbo_connection SET access_expires_at = 0")
    client = await open_client(firm, fake.app())
    # another process has just used our refresh token at Intuit and commits its new tokens a moment later
    fake.refresh_tokens[conn.refresh_token] = False
    newer = fake._issue()

    async def other_process_commits():
        await asyncio.sleep(0.1)
        firm.db.execute("UPDATE qbo_connection SET access_token = ?, refresh_token = ?, access_expires_at = ?",
                        [newer["access_token"], newer["refresh_token"], 2_000_000_000])

    committing = asyncio.create_task(other_process_commits())
    async with client:
        assert (await client.preferences())["Id"] == "1"
    await committing
    kept = store.load_connection(firm.db)
    assert kept.token_status == "ok" and kept.refresh_token == newer["refresh_token"]
