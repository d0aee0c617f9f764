"""The one token path against the in-memory Intuit: transient token-endpoint answers keep the token and are
retried with the client's backoff, only invalid_grant/invalid_client reject it, the leeway scales with the
token's lifetime, the cross-process lease, and the hard expiry asked for and stored."""

import dataclasses
import socket
import ssl
import subprocess
import sys
import time

import httpx
import pytest

from core.errors import TokenRejected, TokenServiceError, TransientError
from core.qbo import store
from core.qbo.connect import begin_connect, complete_connect_async, open_client
from core.qbo.oauth import leeway, revoke, token_request
from core.qbo.retry import RetryPolicy
from core.qbo.tls import ssl_context
from tests.qbo.fakeqbo import fake, firm  # noqa: F401  (fixtures)
from tests.qbo.fakes import FakeClock

TOKEN_PATH = "/oauth2/v1/tokens/bearer"


class Faulty:
    """The fake Intuit behind a token endpoint that first gives each of `answers` (then behaves)."""

    def __init__(self, fake, answers=()):
        self.fake = fake
        self.answers = list(answers)
        self.token_headers: list[httpx.Headers] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == TOKEN_PATH:
            self.token_headers.append(request.headers)
            if self.answers:
                answer = self.answers.pop(0)
                if isinstance(answer, Exception):
                    raise answer
                return answer
        return self.fake.handle(request)

    def app(self):
        return dataclasses.replace(self.fake.app(), transport=httpx.MockTransport(self.handle))


async def connect(firm, app, fake):
    pending = begin_connect(firm, app)
    return await complete_connect_async(firm, fake.approve(pending.url), app)


async def client_with_pinned_backoff(firm, app, attempts=6):
    clock = FakeClock()
    client = await open_client(firm, app)
    client.retry = RetryPolicy(max_attempts=attempts, base_delay=1.0, max_backoff=8.0, jitter=lambda d: d,
                               sleep=clock.sleep)
    return client, clock


TRANSIENT = {
    "503": lambda: httpx.Response(503, text="<html>Service Unavailable</html>"),
    "500-json": lambda: httpx.Response(500, json={"error": "server_error"}),
    "429": lambda: httpx.Response(429, headers={"Retry-After": "2"}, text=""),
    "dropped": lambda: httpx.RemoteProtocolError("Server disconnected without sending a response."),
    "refused": lambda: httpx.ConnectError("Connection refused"),
    "unreadable": lambda: httpx.Response(200, text='{"access_token": "at-cut'),
    "html-200": lambda: httpx.Response(200, text="<html>maintenance</html>"),
    "no-refresh-token": lambda: httpx.Response(200, json={"access_token": "x", "expires_in": 3600}),
}


@pytest.mark.parametrize("kind", list(TRANSIENT))
async def test_a_transient_token_answer_keeps_the_token_and_is_retried(firm, fake, kind):
    faulty = Faulty(fake)
    app = faulty.app()
    await connect(firm, app, fake)
    before = store.load_connection(firm.db)
    faulty.answers = [TRANSIENT[kind](), TRANSIENT[kind]()]
    firm.db.execute("UPDATE qbo_connection SET access_expires_at = 0")
    client, clock = await client_with_pinned_backoff(firm, app)
    async with client:
        assert (await client.preferences())["Id"] == "1"
    after = store.load_connection(firm.db)
    assert after.token_status == "ok" and after.refresh_token != before.refresh_token
    assert fake.refresh_tokens[after.refresh_token]  # the saved one is the live one
    assert fake.token_calls.count("refresh_token") == 1  # the faulty answers never reached Intuit's rotation
    assert clock.sleeps == ([2.0, 2.0] if kind == "429" else [1.0, 2.0])  # the client's backoff


async def test_a_token_endpoint_down_for_good_is_a_transient_error_and_the_token_is_kept(firm, fake):
    faulty = Faulty(fake)
    app = faulty.app()
    await connect(firm, app, fake)
    before = store.load_connection(firm.db)
    faulty.answers = [httpx.Response(502, text="Bad Gateway")] * 10
    firm.db.execute("UPDATE qbo_connection SET access_expires_at = 0")
    client, clock = await client_with_pinned_backoff(firm, app, attempts=4)
    async with client:
        with pytest.raises(TokenServiceError) as info:
            await client.preferences()
    assert isinstance(info.value, TransientError) and info.value.reason == "server" and info.value.status == 502
    assert "HTTP 502" in str(info.value) and "kept" in str(info.value)
    assert len(clock.sleeps) == 3
    kept = store.load_connection(firm.db)
    assert (kept.refresh_token, kept.token_status) == (before.refresh_token, "ok")
    assert kept.refresh_token not in str(info.value)
    assert store.lease_holder(firm.db) is None  # the lease was given back


@pytest.mark.parametrize("error", ["invalid_grant", "invalid_client"])
async def test_only_an_oauth_refusal_rejects_the_connection(firm, fake, error):
    faulty = Faulty(fake)
    app = faulty.app()
    await connect(firm, app, fake)
    faulty.answers = [httpx.Response(400 if error == "invalid_grant" else 401, json={"error": error})]
    firm.db.execute("UPDATE qbo_connection SET access_expires_at = 0")
    client, clock = await client_with_pinned_backoff(firm, app)
    async with client:
        with pytest.raises(TokenRejected) as info:
            await client.preferences()
    assert info.value.error == error and "Reconnect to QuickBooks" in str(info.value)
    assert clock.sleeps == []  # not retried
    assert store.load_connection(firm.db).token_status == "rejected"


def test_the_leeway_scales_with_the_token_lifetime():
    assert leeway(3600) == 300 and leeway(None) == 300
    assert leeway(30) == 7.5 and leeway(5) == 1.25


async def test_a_five_second_token_is_used_until_its_last_quarter(firm, fake):
    await connect(firm, fake.app(), fake)
    now = int(time.time())
    firm.db.execute("UPDATE qbo_connection SET access_lifetime = 5, access_expires_at = ?", [now + 4])
    client = await open_client(firm, fake.app())
    async with client:
        await client.preferences()
        assert fake.token_calls.count("refresh_token") == 0  # 4 s left of 5: not yet (a 300 s leeway would)
        firm.db.execute("UPDATE qbo_connection SET access_expires_at = ?", [now])
        client.auth._reload()
        await client.preferences()
    assert fake.token_calls.count("refresh_token") == 1
    assert store.load_connection(firm.db).access_lifetime == 3600  # what the fake issues


async def test_a_refresh_waits_for_another_process_lease_and_takes_its_tokens(firm, fake):
    import asyncio

    await connect(firm, fake.app(), fake)
    firm.db.execute("UPDATE qbo_connection SET access_expires_at = 0, refresh_lease_owner = 'elsewhere:1:x',"
                    " refresh_lease_until = ?", [time.time() + 60])
    newer = fake._issue()

    async def other_process_finishes():
        await asyncio.sleep(0.2)
        firm.db.execute("UPDATE qbo_connection SET access_token = ?, refresh_token = ?, access_expires_at = ?,"
                        " refresh_lease_owner = NULL, refresh_lease_until = NULL",
                        [newer["access_token"], newer["refresh_token"], int(time.time()) + 3600])

    finishing = asyncio.create_task(other_process_finishes())
    client = await open_client(firm, fake.app())
    async with client:
        assert (await client.preferences())["Id"] == "1"
    await finishing
    assert fake.token_calls.count("refresh_token") == 0  # it used the other process's tokens
    assert store.load_connection(firm.db).refresh_token == newer["refresh_token"]


async def test_a_lease_left_by_a_killed_process_is_taken_over_at_once(firm, fake):
    await connect(firm, fake.app(), fake)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    firm.db.execute("UPDATE qbo_connection SET access_expires_at = 0, refresh_lease_owner = ?,"
                    " refresh_lease_until = ?", [f"{socket.gethostname()}:{dead.pid}:x", time.time() + 600])
    client = await open_client(firm, fake.app())
    async with client:
        assert (await client.preferences())["Id"] == "1"
    assert fake.token_calls.count("refresh_token") == 1
    assert store.lease_holder(firm.db) is None


class HardExpiry(Faulty):
    """The fake Intuit telling the hard expiry (20 days away) when asked for it, as Intuit does."""

    def handle(self, request: httpx.Request) -> httpx.Response:
        answer = super().handle(request)
        if request.url.path == TOKEN_PATH and answer.status_code == 200 and \
                request.headers.get("x-include-refresh-token-hard-expires-in") == "true":
            body = answer.json()
            body["x_refresh_token_hard_expires_in"] = 20 * 86400 + 3600
            return httpx.Response(200, json=body)
        return answer


async def test_the_hard_expiry_is_asked_for_stored_and_warned_about_30_days_ahead(firm, fake, capsys):
    from core.cli import main
    from core.services import qbo as svc
    from core.services.setup import status_json

    faulty = HardExpiry(fake)
    app = faulty.app()
    await connect(firm, app, fake)
    await svc.pull_reference_async(firm, app=app)
    firm.db.execute("UPDATE qbo_connection SET access_expires_at = 0")
    client = await open_client(firm, app)
    async with client:
        await client.preferences()
    assert [h.get("x-include-refresh-token-hard-expires-in") for h in faulty.token_headers] == ["true", "true"]
    conn = store.load_connection(firm.db)
    assert conn.refresh_hard_expires_at - time.time() == pytest.approx(20 * 86400 + 3600, abs=60)
    connection = status_json(firm)["connection"]
    hard_day = connection["refresh_token_hard_expires_at"][:10]
    assert connection["refresh_token_expires_at"] > connection["refresh_token_hard_expires_at"]
    warning = connection["expiry_warning"]
    assert (warning["which"], warning["days"], warning["expired"]) == ("hard", 20, False)
    assert warning["message"] == ("The QuickBooks authorization expires in 20 days (its five-year limit): "
                                  f"Reconnect to QuickBooks before {hard_day}.")
    step = svc.qbo_steps(firm)[0]
    assert step.state == "warning" and f"Reconnect to QuickBooks before {hard_day}" in step.message
    assert main(["--db", str(firm.settings.db), "status"]) == 0
    out = capsys.readouterr().out
    assert f"five-year limit {hard_day}" in out and "renews on use until " in out
    assert f"[!] The QuickBooks authorization expires in 20 days (its five-year limit): Reconnect to QuickBooks " \
           f"before {hard_day}." in " ".join(out.split())
    # 31 days from both: no warning; the rolling one nearer: it is the one named
    far = int(time.time()) + 31 * 86400
    firm.db.execute("UPDATE qbo_connection SET refresh_hard_expires_at = ?, refresh_expires_at = ?", [far, far + 5])
    assert status_json(firm)["connection"]["expiry_warning"] is None
    assert svc.qbo_steps(firm)[0].state == "done"
    firm.db.execute("UPDATE qbo_connection SET refresh_expires_at = ?", [int(time.time()) + 3 * 86400 + 60])
    warning = status_json(firm)["connection"]["expiry_warning"]
    assert (warning["which"], warning["days"]) == ("rolling", 3) and "(its five-year limit)" not in warning["message"]
    firm.db.execute("UPDATE qbo_connection SET refresh_hard_expires_at = ?", [int(time.time()) - 10])
    step = svc.qbo_steps(firm)[0]
    assert not step.ok and "expired on" in step.message and "five-year limit" in step.message


async def test_every_http_client_shares_one_verifying_tls_context(firm, fake, monkeypatch):
    """No client Ledgerlink makes loads the CA bundle again (a fraction of a second of CPU each), and none
    turns verification off: the token request, the revocation and each company's API client."""
    await connect(firm, fake.app(), fake)
    ctx = ssl_context()
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    built = []
    real = ssl.create_default_context
    monkeypatch.setattr(ssl, "create_default_context", lambda *a, **k: built.append(a or k) or real(*a, **k))
    with socket.socket() as s:  # a local port nobody listens on: each request fails at once, offline
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    endpoints = dataclasses.replace(fake.app().endpoints, token_url=closed + TOKEN_PATH, revoke_url=closed + "/revoke")
    app = dataclasses.replace(fake.app(), transport=None, endpoints=endpoints)
    with pytest.raises(TokenServiceError):
        await token_request(app, {"grant_type": "refresh_token", "refresh_token": "rt"}, what="refresh")
    with pytest.raises(TokenServiceError):
        await revoke(app, "rt")
    for _ in range(2):
        client = await open_client(firm, app)
        assert client.http._transport._pool._ssl_context is ctx
        await client.http.aclose()
    assert built == []
