"""Intuit OAuth 2.0 on authlib's AsyncOAuth2Client: the app's settings, the code exchange,
token refresh with rotation saved in one transaction, and revocation.

QBO rotates the refresh token on refresh: `TokenManager._update_token` (an `async def`, as authlib
awaits it) stores the new pair before anything else happens. A refresh token QBO rejects raises
AuthError("Reconnect to QuickBooks ...") and leaves the database as it was (only marked rejected).
"""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from dataclasses import dataclass, field
from urllib.parse import urlencode

import httpx
from authlib.deprecate import AuthlibDeprecationWarning

with warnings.catch_warnings():  # authlib warns when it runs on httpx rather than httpx2: httpx is our choice
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.base_client import OAuthError
    from authlib.integrations.httpx_client import AsyncOAuth2Client

from core.errors import AuthError, ConfigError, ConnectError, TransientError
from core.qbo import store
from core.settings import Endpoints

log = logging.getLogger(__name__)

REFRESH_LEEWAY = 300
"""Refresh the access token this many seconds before it expires."""
HTTP_TIMEOUT = 60.0

RECONNECT = "Reconnect to QuickBooks: open Connect in Ledgerlink or run `ledgerlink connect`"


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

    def oauth_client(self, **kwargs) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=self.client_id,
            client_secret=self.client_secret,
            token_endpoint_auth_method="client_secret_basic",
            token_endpoint=self.endpoints.token_url,
            timeout=HTTP_TIMEOUT,
            transport=self.transport,
            **kwargs,
        )

    def authorization_url(self, state: str) -> str:
        query = urlencode(
            {
                "client_id": self.client_id,
                "response_type": "code",
                "scope": self.scope,
                "redirect_uri": self.redirect_uri,
                "state": state,
            }
        )
        return f"{self.endpoints.authorize_url}?{query}"


BAD_CLIENT = ("QuickBooks did not accept this app's client id and secret (invalid_client): check "
              "LEDGERLINK_QBO__CLIENT_ID and LEDGERLINK_QBO__CLIENT_SECRET against the app's keys in the Intuit "
              "developer portal (production and sandbox keys differ), then run connect again")


def _oauth_message(exc: OAuthError) -> str:
    text = exc.error or "error"
    if exc.description:
        text += f": {exc.description}"
    return text


async def exchange_code(app: AppConfig, code: str) -> dict:
    """Trade an authorization code for tokens (a dict with expires_at and refresh expiry)."""
    async with app.oauth_client(redirect_uri=app.redirect_uri) as client:
        try:
            token = await client.fetch_token(
                app.endpoints.token_url, grant_type="authorization_code", code=code, redirect_uri=app.redirect_uri
            )
        except OAuthError as exc:
            if exc.error == "invalid_client":
                raise ConfigError(BAD_CLIENT) from None
            raise ConnectError(
                f"QuickBooks refused the authorization code ({_oauth_message(exc)}). The code is single-use and "
                "short-lived: run connect again and paste the new address promptly."
            ) from None
        except httpx.TransportError as exc:
            raise TransientError(f"Could not reach the QuickBooks sign-in service ({type(exc).__name__})") from None
        except ValueError:
            raise ConnectError("The QuickBooks sign-in service sent an unreadable answer: try again") from None
    return dict(token)


def refresh_expiry(token: dict, now: float) -> int | None:
    seconds = token.get("x_refresh_token_expires_in")
    return int(now + int(seconds)) if seconds is not None else None


async def revoke(app: AppConfig, token: str) -> None:
    """Revoke a refresh (or access) token at Intuit: Basic auth, JSON body (reference 2.6)."""
    async with httpx.AsyncClient(transport=app.transport, timeout=HTTP_TIMEOUT) as client:
        try:
            response = await client.post(
                app.endpoints.revoke_url,
                json={"token": token},
                auth=(app.client_id, app.client_secret),
                headers={"Accept": "application/json"},
            )
        except httpx.TransportError as exc:
            raise TransientError(f"Could not reach QuickBooks to revoke the tokens ({type(exc).__name__})") from None
    if response.status_code != 200:
        raise AuthError(f"QuickBooks did not confirm the revocation (HTTP {response.status_code})")


class TokenManager:
    """Keeps a company's tokens fresh for QBOClient; the db is the one place they are kept."""

    def __init__(self, db, app: AppConfig, connection: store.StoredConnection, *, clock=time.time):
        self.db = db
        self.app = app
        self.realm_id = connection.realm_id
        self.clock = clock
        self._lock = asyncio.Lock()
        self._connection = connection
        self.http = app.oauth_client(token=self._token_dict(connection), update_token=self._update_token)
        self.refresh_count = 0

    @staticmethod
    def _token_dict(conn: store.StoredConnection) -> dict:
        return {
            "access_token": conn.access_token,
            "refresh_token": conn.refresh_token,
            "token_type": "bearer",
            "expires_at": conn.access_expires_at,
        }

    def secrets(self) -> tuple[str, ...]:
        return (self._connection.access_token, self._connection.refresh_token, self.app.client_secret)

    def _reload(self) -> None:
        conn = store.load_connection(self.db)
        if conn is None or conn.realm_id != self.realm_id:
            raise AuthError(f"The QuickBooks connection was removed. {RECONNECT}.")
        self._connection = conn
        self.http.token = self._token_dict(conn)

    def _expiring(self) -> bool:
        return self._connection.access_expires_at - self.clock() <= REFRESH_LEEWAY

    async def _update_token(self, token, refresh_token=None, access_token=None) -> None:
        """authlib calls this after each refresh: save the rotated pair in one transaction."""
        now = self.clock()
        expires_at = int(token.get("expires_at") or now + int(token.get("expires_in", 3600)))
        with self.db.atomic():
            self.db.execute(
                "UPDATE qbo_connection SET access_token = ?, refresh_token = ?, access_expires_at = ?,"
                " refresh_expires_at = COALESCE(?, refresh_expires_at), last_refresh_at = ?, token_status = 'ok'"
                " WHERE id = 1 AND realm_id = ?",
                [token["access_token"], token["refresh_token"], expires_at, refresh_expiry(token, now),
                 store.iso_from_epoch(now), self.realm_id],
            )
        self.refresh_count += 1
        self._reload()
        log.info("QBO access token refreshed for realm %s", self.realm_id)

    async def _refresh(self) -> None:
        used = self._connection.refresh_token
        try:
            await self.http.refresh_token(self.app.endpoints.token_url, refresh_token=used)
        except OAuthError as exc:
            if await self._rotated_elsewhere(used):
                return  # another process (the TUI, a cron sync) rotated it meanwhile; its tokens are now ours
            if exc.error in ("invalid_grant", "invalid_client", "unauthorized_client"):
                self.db.execute("UPDATE qbo_connection SET token_status = 'rejected' WHERE id = 1")
                raise AuthError(
                    f"QuickBooks refused the saved authorization ({exc.error}). {RECONNECT}. "
                    "Nothing queued was lost."
                ) from None
            raise TransientError(f"QuickBooks could not refresh the access token ({exc.error}): try again later") from None
        except httpx.TransportError as exc:
            raise TransientError(f"Could not reach QuickBooks to refresh the access token ({type(exc).__name__})") from None
        except ValueError:
            raise TransientError("The QuickBooks token service sent an unreadable answer: try again later") from None

    async def _rotated_elsewhere(self, used: str) -> bool:
        """After a refused refresh: did another process save a newer refresh token? It may have received
        its answer a moment before committing it, so look twice more, briefly, before giving up."""
        for pause in (0.0, 0.25, 0.5):
            if pause:
                await asyncio.sleep(pause)
            self._reload()
            if self._connection.refresh_token != used:
                return True
        return False

    async def ensure_fresh(self) -> None:
        """Refresh the access token if it expires within REFRESH_LEEWAY seconds."""
        if not self._expiring():
            return
        async with self._lock:
            if not self._expiring():
                return
            self._reload()
            if self._expiring():
                await self._refresh()

    async def refresh_after_401(self) -> None:
        """QBO refused the access token: take a newer one from the db, or refresh once."""
        failed = self._connection.access_token
        async with self._lock:
            self._reload()
            if self._connection.access_token == failed:
                await self._refresh()
