"""Intuit OAuth 2.0: the app's settings, the code exchange, the one token path, and revocation.

Every refresh goes through `TokenManager.refresh`, serialised per company across processes by a lease
in the firm database (`qbo_connection.refresh_lease_owner`, core.qbo.store.take_lease): the store is
re-read once the lease is held (another process may have refreshed already), the rotated pair is saved
and the lease given back in one transaction, and after a refused refresh the store is read again and
the newer token (if any) tried once. Token requests are plain httpx POSTs (no library refreshes by
itself behind our back) and ask for the refresh token's hard expiry (reference 2.4, 2.5); authlib
builds the authorization URL and the connect state.

A 5xx, a 429, a dropped connection or an unreadable answer raises TokenServiceError (transient: the
client's RetryPolicy retries it, the tokens stay as they are); only invalid_grant, invalid_client and
unauthorized_client mark the connection rejected and raise TokenRejected ("Reconnect to QuickBooks").
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import socket
import time
from dataclasses import dataclass, field

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri

from core.errors import AuthError, ConfigError, ConnectError, TokenRejected, TokenServiceError
from core.qbo import store
from core.qbo.tls import ssl_context
from core.settings import Endpoints

log = logging.getLogger(__name__)

REFRESH_LEEWAY = 300
"""Refresh the access token at most this many seconds before it expires (less for short-lived tokens)."""
HTTP_TIMEOUT = 60.0
LEASE_TTL = HTTP_TIMEOUT + 30
"""Seconds a refresh lease lasts: one token request at most (a crashed holder's lease lapses by itself)."""
LEASE_POLL = 0.05
DEFAULT_LIFETIME = 3600
HARD_EXPIRY_HEADER = "x-include-refresh-token-hard-expires-in"
REJECTING = ("invalid_grant", "invalid_client", "unauthorized_client")

RECONNECT = "Reconnect to QuickBooks: open Connect in Ledgerlink or run `ledgerlink connect`"


def leeway(lifetime: int | float | None) -> float:
    """How early to refresh an access token issued for `lifetime` seconds: min(300 s, a quarter of it)."""
    return min(REFRESH_LEEWAY, max(float(lifetime or DEFAULT_LIFETIME), 1.0) / 4)


@dataclass(frozen=True)
class AppConfig:
    """Everything needed to talk to one Intuit app (or the local sandbox). The secret is never shown."""

    environment: str
    endpoints: Endpoints
    client_id: str
    client_secret: str = field(repr=False)
    redirect_uri: str
    scope: str = "com.intuit.quickbooks.accounting"
    minor_version: int = 75
    transport: httpx.AsyncBaseTransport | None = field(default=None, repr=False, compare=False)

    def authorization_url(self, state: str) -> str:
        return prepare_grant_uri(self.endpoints.authorize_url, self.client_id, "code",
                                 redirect_uri=self.redirect_uri, scope=self.scope, state=state)


def new_state() -> str:
    """A connect attempt's unguessable `state` (32 letters and digits, about 190 bits)."""
    return generate_token(32)


@dataclass(frozen=True)
class TokenAnswer:
    """A token endpoint's success, with lifetimes turned into absolute epoch seconds."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    access_lifetime: int
    access_expires_at: int
    refresh_expires_at: int | None
    refresh_hard_expires_at: int | None
    received_at: float


def _absolute(body: dict, key: str, now: float) -> int | None:
    seconds = body.get(key)
    return int(now + int(seconds)) if seconds is not None else None


def refresh_expiry(token: dict, now: float) -> int | None:
    return _absolute(token, "x_refresh_token_expires_in", now)


def _service_error(what: str, *, reason: str, status: int | None = None, retry_after: float | None = None,
                   tid: str | None = None) -> TokenServiceError:
    texts = {
        "server": f"the QuickBooks sign-in service had a server error (HTTP {status})",
        "throttled": "the QuickBooks sign-in service asked us to slow down (HTTP 429)",
        "network": "could not reach the QuickBooks sign-in service",
        "unreadable": f"the QuickBooks sign-in service sent an unreadable answer (HTTP {status})",
    }
    return TokenServiceError(f"Could not {what}: {texts[reason]}; the saved authorization is kept, try again later",
                             reason=reason, status=status, retry_after=retry_after, intuit_tid=tid)


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers["Retry-After"])
    except (KeyError, ValueError):
        return None


async def token_request(app: AppConfig, form: dict[str, str], *, what: str, clock=time.time) -> TokenAnswer:
    """POST one grant to the token endpoint (Basic auth, form body, hard expiry asked for).

    Raises TokenRejected for an OAuth error answer, TokenServiceError for anything transient."""
    async with httpx.AsyncClient(transport=app.transport, timeout=HTTP_TIMEOUT, verify=ssl_context()) as http:
        try:
            response = await http.post(
                app.endpoints.token_url, data=form, auth=(app.client_id, app.client_secret),
                headers={"Accept": "application/json", HARD_EXPIRY_HEADER: "true"},
            )
        except httpx.RequestError as exc:  # connect/read errors, a dropped connection, a garbled stream
            log.info("token endpoint unreachable (%s)", type(exc).__name__)
            raise _service_error(what, reason="network") from None
    now = clock()
    status = response.status_code
    tid = response.headers.get("intuit_tid") or response.headers.get("intuit-tid")
    if status == 429:
        raise _service_error(what, reason="throttled", status=status, retry_after=_retry_after(response), tid=tid)
    if status >= 500:
        raise _service_error(what, reason="server", status=status, retry_after=_retry_after(response), tid=tid)
    try:
        body = json.loads(response.text)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise _service_error(what, reason="unreadable", status=status, tid=tid)
    if status == 200:
        try:
            lifetime = int(body["expires_in"])
            access, refresh = str(body["access_token"]), str(body["refresh_token"])
        except (KeyError, TypeError, ValueError):
            raise _service_error(what, reason="unreadable", status=status, tid=tid) from None
        if not access or not refresh or lifetime <= 0:
            raise _service_error(what, reason="unreadable", status=status, tid=tid)
        return TokenAnswer(access, refresh, lifetime, int(now + lifetime), _absolute(body, "x_refresh_token_expires_in", now),
                           _absolute(body, "x_refresh_token_hard_expires_in", now), now)
    error = body.get("error")
    if not isinstance(error, str) or not error:
        raise _service_error(what, reason="unreadable", status=status, tid=tid)
    log.warning("token endpoint answered %s %s (intuit_tid %s)", status, error, tid)
    raise TokenRejected(f"QuickBooks refused to {what} ({error})", error=error, status=status, intuit_tid=tid)


BAD_CLIENT = ("QuickBooks did not accept this app's client id and secret (invalid_client): check "
              "LEDGERLINK_QBO__CLIENT_ID and LEDGERLINK_QBO__CLIENT_SECRET against the app's keys in the Intuit "
              "developer portal (production and sandbox keys differ), then run connect again")


async def exchange_code(app: AppConfig, code: str) -> TokenAnswer:
    """Trade an authorization code for tokens."""
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": app.redirect_uri}
    try:
        return await token_request(app, form, what="trade the authorization code")
    except TokenRejected as exc:
        if exc.error == "invalid_client":
            raise ConfigError(BAD_CLIENT) from None
        raise ConnectError(
            f"QuickBooks refused the authorization code ({exc.error}). The code is single-use and "
            "short-lived: run connect again and paste the new address promptly."
        ) from None


async def revoke(app: AppConfig, token: str) -> None:
    """Revoke a refresh (or access) token at Intuit: Basic auth, JSON body (reference 2.6)."""
    async with httpx.AsyncClient(transport=app.transport, timeout=HTTP_TIMEOUT, verify=ssl_context()) as client:
        try:
            response = await client.post(
                app.endpoints.revoke_url,
                json={"token": token},
                auth=(app.client_id, app.client_secret),
                headers={"Accept": "application/json"},
            )
        except httpx.TransportError as exc:
            raise TokenServiceError(f"Could not reach QuickBooks to revoke the tokens ({type(exc).__name__})",
                                    reason="network") from None
    if response.status_code != 200:
        raise AuthError(f"QuickBooks did not confirm the revocation (HTTP {response.status_code})")


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def _gone(owner: str | None) -> bool:
    """A lease holder on this machine whose process has ended (e.g. killed mid-refresh)."""
    if not owner:
        return False
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


class _Bearer(httpx.Auth):
    """Adds the current access token to each API request (read at send time, never captured earlier)."""

    def __init__(self, manager: "TokenManager"):
        self.manager = manager

    def auth_flow(self, request):
        request.headers["Authorization"] = f"Bearer {self.manager._connection.access_token}"
        yield request


class TokenManager:
    """Keeps a company's tokens fresh for QBOClient; the firm database is the one place they are kept."""

    def __init__(self, db, app: AppConfig, connection: store.StoredConnection, *, clock=time.time):
        self.db = db
        self.app = app
        self.realm_id = connection.realm_id
        self.clock = clock
        self.owner = _owner()
        self._lock = asyncio.Lock()
        self._connection = connection
        self.http = httpx.AsyncClient(auth=_Bearer(self), transport=app.transport, timeout=HTTP_TIMEOUT,
                                      verify=ssl_context())
        self.refresh_count = 0

    def secrets(self) -> tuple[str, ...]:
        return (self._connection.access_token, self._connection.refresh_token, self.app.client_secret)

    def _reload(self) -> store.StoredConnection:
        conn = store.load_connection(self.db)
        if conn is None or conn.realm_id != self.realm_id:
            raise AuthError(f"The QuickBooks connection was removed. {RECONNECT}.")
        self._connection = conn
        return conn

    def _expiring(self) -> bool:
        conn = self._connection
        return conn.access_expires_at - self.clock() <= leeway(conn.access_lifetime)

    async def ensure_fresh(self) -> None:
        """Refresh the access token if it expires within the leeway."""
        if self._expiring():
            await self.refresh()

    async def refresh_after_401(self) -> None:
        """QBO refused the access token: take a newer one from the db, or refresh."""
        await self.refresh(failed=self._connection.access_token)

    def _done(self, failed: str | None) -> bool:
        if failed is not None:
            return self._connection.access_token != failed
        return not self._expiring()

    async def refresh(self, failed: str | None = None) -> None:
        """THE refresh: one at a time in this process (asyncio lock) and across processes (the lease).
        `failed`: an access token QBO refused (refresh even if the clock says it is still good)."""
        async with self._lock:
            if self._done(failed):
                return
            await self._take_lease()
            try:
                self._reload()
                if self._done(failed):
                    return  # another process refreshed while we waited
                await self._refresh_with(self._connection.refresh_token, failed, again=True)
            finally:
                store.release_lease(self.db, self.owner)

    async def _take_lease(self) -> None:
        while True:
            holder = store.lease_holder(self.db)
            taken = store.take_lease(self.db, self.owner, self.clock(), LEASE_TTL,
                                     dead=holder if _gone(holder) else None)
            if taken is None:
                raise AuthError(f"The QuickBooks connection was removed. {RECONNECT}.")
            if taken:
                return
            await asyncio.sleep(LEASE_POLL)

    async def _refresh_with(self, used: str, failed: str | None, *, again: bool) -> None:
        try:
            answer = await token_request(self.app, {"grant_type": "refresh_token", "refresh_token": used},
                                         what="refresh the access token", clock=self.clock)
        except TokenRejected as exc:
            if await self._rotated_elsewhere(used):
                if again and not self._done(failed):
                    await self._refresh_with(self._connection.refresh_token, failed, again=False)
                return
            if exc.error in REJECTING:
                store.mark_rejected(self.db, used)
                raise TokenRejected(
                    f"QuickBooks refused the saved authorization ({exc.error}). {RECONNECT}. Nothing queued was lost.",
                    error=exc.error, status=exc.status, intuit_tid=exc.intuit_tid,
                ) from None
            raise TokenServiceError(
                f"QuickBooks could not refresh the access token ({exc.error}); the saved authorization is kept, "
                "try again later", reason="unreadable", status=exc.status, intuit_tid=exc.intuit_tid,
            ) from None
        store.save_refreshed(
            self.db, self.realm_id, self.owner, access_token=answer.access_token, refresh_token=answer.refresh_token,
            access_expires_at=answer.access_expires_at, access_lifetime=answer.access_lifetime,
            refresh_expires_at=answer.refresh_expires_at, refresh_hard_expires_at=answer.refresh_hard_expires_at,
            refreshed_at=answer.received_at,
        )
        self.refresh_count += 1
        self._reload()
        log.info("QBO access token refreshed for realm %s", self.realm_id)

    async def _rotated_elsewhere(self, used: str) -> bool:
        """After a refused refresh: did someone save a newer refresh token? A process of an older Ledgerlink
        (no lease) may commit a moment after its answer, so look twice more, briefly."""
        for pause in (0.0, 0.25, 0.5):
            if pause:
                await asyncio.sleep(pause)
            self._reload()
            if self._connection.refresh_token != used:
                return True
        return False
