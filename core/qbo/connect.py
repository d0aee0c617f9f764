"""Connecting a firm to a QBO company: the stored pending attempt, the pasted redirect URL or the
loopback callback, the code exchange, the permission probe, disconnecting, and `open_client`.

The pending attempt (its `state`) is stored in the firm database, so the CLI can start a connect and
the TUI finish it, or the reverse. Each way a paste can be wrong gets its own message.
"""

from __future__ import annotations

import asyncio
import importlib
import io
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import segno

from core.errors import AuthError, ConnectError, PermanentError, QBOError
from core.qbo import store
from core.qbo.client import QBOClient
from core.qbo.embedded import app_config
from core.qbo.limiter import limiter_for
from core.qbo.metering import Meter
from core.qbo.oauth import RECONNECT, AppConfig, TokenManager, exchange_code, new_state, revoke
from core.qbo.retry import RetryPolicy
from core.text import counted

log = logging.getLogger(__name__)

PENDING_TTL = 600
"""Seconds a connect attempt stays valid."""

GARBLED = (
    "That does not look like the address QuickBooks sent your browser back to. Copy the whole address "
    "from the browser's address bar (it starts with {redirect} and contains code=, state= and realmId=) "
    "and paste it on one line."
)


@dataclass(frozen=True)
class PendingConnect:
    url: str
    state: str
    qr_text: str
    redirect_uri: str
    expires_at: str
    loopback: bool
    """True when the redirect URI points at this machine, so the callback can be received directly."""


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    readable: tuple[str, ...]
    missing: tuple[str, ...]
    message: str


EXPIRY_WARN_DAYS = 30
"""Warn this many days before the authorization's rolling expiry or its five-year hard expiry."""


@dataclass(frozen=True)
class ExpiryNotice:
    """The nearer of the two refresh-token expiries, once it is within EXPIRY_WARN_DAYS (or past)."""

    which: str
    """"rolling" (unused for 100 days) or "hard" (Intuit's five-year limit, however often it is refreshed)."""
    at: str
    days: int
    """Whole days left (0: within a day)."""
    expired: bool

    @property
    def date(self) -> str:
        return self.at[:10]

    def message(self) -> str:
        limit = " (its five-year limit)" if self.which == "hard" else ""
        if self.expired:
            return f"The QuickBooks authorization expired on {self.date}{limit}: Reconnect to QuickBooks."
        when = f"in {counted(self.days, 'day')}" if self.days else "within a day"
        return f"The QuickBooks authorization expires {when}{limit}: Reconnect to QuickBooks before {self.date}."

    def as_json(self) -> dict:
        return {"which": self.which, "at": self.at, "days": self.days, "expired": self.expired,
                "message": self.message()}


def expiry_notice(rolling: int | None, hard: int | None, now: float) -> ExpiryNotice | None:
    """The expiry to warn about (the nearer of the two), or None while both are more than 30 days away."""
    known = [(at, which) for at, which in ((rolling, "rolling"), (hard, "hard")) if at is not None]
    if not known:
        return None
    at, which = min(known)
    if at - now >= EXPIRY_WARN_DAYS * 86400:
        return None
    return ExpiryNotice(which, store.iso_from_epoch(at), max(0, int((at - now) // 86400)), at <= now)


@dataclass(frozen=True)
class ConnectionInfo:
    environment: str
    realm_id: str
    company_name: str | None
    country: str | None
    access_token_expires_at: str | None
    refresh_token_expires_at: str | None
    last_refresh_at: str | None
    connected_at: str
    connected_by: str
    token_status: str
    probe: ProbeResult | None = None
    refresh_token_hard_expires_at: str | None = None
    expiry: ExpiryNotice | None = None

    def as_json(self) -> dict:
        return {
            "environment": self.environment,
            "realm_id": self.realm_id,
            "company_name": self.company_name,
            "access_token_expires_at": self.access_token_expires_at,
            "refresh_token_expires_at": self.refresh_token_expires_at,
            "refresh_token_hard_expires_at": self.refresh_token_hard_expires_at,
            "expiry_warning": self.expiry.as_json() if self.expiry else None,
            "last_refresh_at": self.last_refresh_at,
            "token_status": self.token_status,
        }


@dataclass(frozen=True)
class DisconnectResult:
    was_connected: bool
    revoked: bool
    links_forgotten: int
    message: str


def qr_text(url: str) -> str:
    """The URL as a QR code drawn with block characters, for a terminal."""
    buffer = io.StringIO()
    segno.make(url, error="l").terminal(out=buffer, compact=True)
    return buffer.getvalue()


def is_loopback(redirect_uri: str) -> bool:
    parts = urlsplit(redirect_uri)
    return parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")


def connection_info_of(conn: store.StoredConnection, probe: ProbeResult | None = None, *,
                       now: float | None = None) -> ConnectionInfo:
    now = time.time() if now is None else now
    return ConnectionInfo(
        environment=conn.environment,
        realm_id=conn.realm_id,
        company_name=conn.company_name,
        country=conn.country,
        access_token_expires_at=store.iso_from_epoch(conn.access_expires_at),
        refresh_token_expires_at=store.iso_from_epoch(conn.refresh_expires_at),
        last_refresh_at=conn.last_refresh_at,
        connected_at=conn.connected_at,
        connected_by=conn.connected_by,
        token_status=conn.token_status,
        probe=probe,
        refresh_token_hard_expires_at=store.iso_from_epoch(conn.refresh_hard_expires_at),
        expiry=expiry_notice(conn.refresh_expires_at, conn.refresh_hard_expires_at, now),
    )


# -- starting ---------------------------------------------------------------------------------
def begin_connect(firm, app: AppConfig | None = None, *, clock=time.time) -> PendingConnect:
    """Start a connect attempt: store its state and return the authorization URL (and its QR code)."""
    app = app or app_config(firm.settings)
    state = new_state()
    url = app.authorization_url(state)
    now = int(clock())
    with firm.db.atomic():
        firm.db.execute("DELETE FROM qbo_pending_connect WHERE expires_at < ?", [now - 86400])
        firm.db.execute(
            "INSERT INTO qbo_pending_connect (state, environment, redirect_uri, url, created_at, expires_at, created_by)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [state, app.environment, app.redirect_uri, url, now, now + PENDING_TTL, firm.user],
        )
    log.info("QBO connect started by %s (%s)", firm.user, app.environment)
    return PendingConnect(
        url=url,
        state=state,
        qr_text=qr_text(url),
        redirect_uri=app.redirect_uri,
        expires_at=store.iso_from_epoch(now + PENDING_TTL),
        loopback=is_loopback(app.redirect_uri),
    )


def latest_pending(firm, *, clock=time.time) -> PendingConnect | None:
    """The newest attempt still waiting (the TUI can finish what the CLI started)."""
    row = firm.db.execute(
        "SELECT state, url, redirect_uri, expires_at FROM qbo_pending_connect"
        " WHERE status = 'pending' AND expires_at >= ? ORDER BY created_at DESC LIMIT 1",
        [int(clock())],
    ).fetchone()
    if not row:
        return None
    return PendingConnect(row[1], row[0], qr_text(row[1]), row[2], store.iso_from_epoch(row[3]), is_loopback(row[2]))


# -- finishing --------------------------------------------------------------------------------
def parse_redirect(value, redirect_uri: str = "the redirect address") -> dict[str, str]:
    """The callback's query parameters from a pasted URL, a bare query string or a mapping."""
    if isinstance(value, Mapping):
        params = {str(k): str(v) for k, v in value.items()}
    else:
        text = str(value or "").strip().strip("\"'<>")
        if not text or any(c.isspace() for c in text):
            raise ConnectError(GARBLED.format(redirect=redirect_uri))
        parts = urlsplit(text)
        query = parts.query or parts.fragment
        if not query and "=" in text and "://" not in text:
            query = text.lstrip("?")
        params = dict(parse_qsl(query, keep_blank_values=True))
    if not any(params.get(k) for k in ("code", "state", "error")):
        raise ConnectError(GARBLED.format(redirect=redirect_uri))
    return params


def _check_callback(firm, params: dict[str, str], now: int) -> tuple[str, str, str]:
    """Validate state, consent and realmId; returns (state, code, realm_id)."""
    state = params.get("state", "")
    row = (
        firm.db.execute("SELECT expires_at, status, redirect_uri FROM qbo_pending_connect WHERE state = ?", [state]).fetchone()
        if state
        else None
    )
    error = params.get("error")
    if error:
        if row:
            firm.db.execute("UPDATE qbo_pending_connect SET status = 'failed' WHERE state = ?", [state])
        if error == "access_denied":
            raise ConnectError(
                "Access was declined on the QuickBooks consent screen, so Ledgerlink is not connected. "
                "Run connect again and choose Connect (a QuickBooks admin must approve)."
            )
        described = params.get("error_description")
        raise ConnectError(f"QuickBooks refused the connection ({error}{': ' + described if described else ''}).")
    if not state:
        raise ConnectError("The pasted address has no state= part: copy the whole address from the browser and paste it again.")
    if row is None:
        raise ConnectError(
            "The pasted address does not belong to a connect attempt started here (the state does not match). "
            "Use the address from the most recent attempt, or run connect again."
        )
    expires_at, status, _ = row
    if status != "pending":
        raise ConnectError("That connect attempt was already finished. Run connect again to start a new one.")
    if expires_at < now:
        raise ConnectError(
            f"That connect attempt expired (they are valid for {PENDING_TTL // 60} minutes). Run connect again."
        )
    code = params.get("code")
    if not code:
        raise ConnectError("The pasted address has no code= part: copy the whole address from the browser and paste it again.")
    realm = params.get("realmId") or params.get("realmid") or params.get("realm_id")
    if not realm:
        raise ConnectError(
            "QuickBooks did not say which company was chosen (the address has no realmId). "
            "Run connect again and pick a company on the QuickBooks screen."
        )
    return state, code, realm


async def complete_connect_async(firm, redirect, app: AppConfig | None = None, *, clock=time.time) -> ConnectionInfo:
    """Finish a connect attempt from the redirect URL (pasted or received), store the tokens, probe access."""
    app = app or app_config(firm.settings)
    params = parse_redirect(redirect, app.redirect_uri)
    now = int(clock())
    state, code, realm = _check_callback(firm, params, now)
    token = await exchange_code(app, code)
    received = token.received_at
    previous = store.load_connection(firm.db)
    values = dict(
        environment=app.environment,
        realm_id=realm,
        company_name=None,
        country=None,
        access_token=token.access_token,
        refresh_token=token.refresh_token,
        access_expires_at=token.access_expires_at,
        refresh_expires_at=token.refresh_expires_at,
        last_refresh_at=store.iso_from_epoch(received),
        connected_at=store.iso_from_epoch(received),
        connected_by=firm.user,
        token_status="ok",
        access_lifetime=token.access_lifetime,
        refresh_hard_expires_at=token.refresh_hard_expires_at,
    )
    with firm.db.atomic():
        if previous is not None and previous.realm_id != realm:
            _forget_company(firm.db)
        store.save_connection(firm.db, **values)
        firm.db.execute("UPDATE qbo_pending_connect SET status = 'done' WHERE state = ?", [state])
    client = await open_client(firm, app)
    try:
        probe = await probe_permissions(client)
        company_name = country = None
        try:
            info = await client.company_info()
            company_name, country = info.get("CompanyName"), info.get("Country")
        except PermanentError:
            pass
    finally:
        await client.aclose()
    firm.db.execute(
        "UPDATE qbo_connection SET company_name = ?, country = ? WHERE id = 1", [company_name, country]
    )
    log.info("connected to QBO realm %s (%s) by %s", realm, app.environment, firm.user)
    saved = store.load_connection(firm.db)
    if saved is None:
        raise ConnectError("The QuickBooks connection was removed while it was being made (a disconnect from "
                           "another window?): connect again")
    return connection_info_of(saved, probe)


def _forget_company(db) -> None:
    """Another company was chosen: its reference cache and maps do not apply to the new one."""
    db.execute("DELETE FROM qbo_maps")
    db.execute("DELETE FROM qbo_company")
    for table in store.REF_TABLES.values():
        db.execute(f"DELETE FROM {table}")


# -- the loopback listener ------------------------------------------------------------------------
_PAGE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nConnection: close\r\n\r\n"
    b"<html><body><h1>Ledgerlink</h1><p>QuickBooks answered. You can close this window and return to "
    b"Ledgerlink.</p></body></html>"
)


async def wait_for_callback(redirect_uri: str, ready: asyncio.Event | None = None) -> str:
    """Listen on the redirect URI's loopback host and port; return the first callback URL received."""
    parts = urlsplit(redirect_uri)
    host = parts.hostname or "127.0.0.1"
    port = parts.port or 80
    path = parts.path or "/"
    loop = asyncio.get_running_loop()
    received: asyncio.Future[str] = loop.create_future()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = (await asyncio.wait_for(reader.readline(), 10)).decode("latin-1")
            while (await asyncio.wait_for(reader.readline(), 10)) not in (b"\r\n", b"\n", b""):
                pass
            fields = line.split()
            target = fields[1] if len(fields) >= 2 else ""
            if fields and fields[0] == "GET" and urlsplit(target).path == path:
                writer.write(_PAGE)
                if not received.done():
                    received.set_result(f"{parts.scheme}://{parts.netloc}{target}")
            else:
                writer.write(b"HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n")
            await writer.drain()
        except (asyncio.TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    try:
        server = await asyncio.start_server(handle, host, port)
    except OSError as exc:
        raise ConnectError(
            f"Cannot listen for the QuickBooks callback on {host}:{port} ({exc.strerror}); paste the address instead."
        ) from None
    async with server:
        if ready is not None:
            ready.set()
        return await received


# -- using the connection -----------------------------------------------------------------------
async def open_client(firm, app: AppConfig | None = None) -> QBOClient:
    """A QBOClient for the connected company, tokens from the db and refreshed before expiry."""
    conn = store.load_connection(firm.db)
    if conn is None:
        raise AuthError(f"Ledgerlink is not connected to QuickBooks. {RECONNECT}.")
    app = app or app_config(firm.settings)
    tokens = TokenManager(firm.db, app, conn)
    sync = firm.settings.sync
    return QBOClient(
        http=tokens.http,
        api_base=app.endpoints.api_base,
        realm_id=conn.realm_id,
        minor_version=app.minor_version,
        limiter=limiter_for(conn.realm_id, sync),
        retry=RetryPolicy.from_settings(sync),
        auth=tokens,
        meter=Meter(firm.db, conn.realm_id),
    )


PROBES = (
    ("company info", "companyinfo"),
    ("preferences", "preferences"),
    ("accounts", "Account"),
    ("products and services", "Item"),
    ("tax codes", "TaxCode"),
)


async def probe_permissions(client: QBOClient) -> ProbeResult:
    """Check that the connected QBO user can read what the integration needs; name what is missing."""
    readable, missing = [], []
    for label, what in PROBES:
        try:
            if what == "companyinfo":
                await client.company_info()
            elif what == "preferences":
                await client.preferences()
            else:
                await client.query(f"SELECT * FROM {what} MAXRESULTS 1")
            readable.append(label)
        except (PermanentError, AuthError) as exc:
            log.info("QBO probe of %s failed: %s", label, exc.code)
            missing.append(label)
    if missing:
        message = (
            "The connected QuickBooks user cannot read: " + ", ".join(missing) + ". The integration acts with that "
            "user's permissions: reconnect as a QuickBooks admin of this company."
        )
    else:
        message = "The connected QuickBooks user can read everything the integration needs."
    return ProbeResult(not missing, tuple(readable), tuple(missing), message)


async def disconnect_async(firm, purge: bool = False, app: AppConfig | None = None) -> DisconnectResult:
    """Revoke the tokens at Intuit and forget them; `purge` also forgets document links to QBO ids."""
    conn = store.load_connection(firm.db)
    revoked = False
    problem = ""
    if conn is not None:
        try:
            await revoke(app or app_config(firm.settings), conn.refresh_token)
            revoked = True
        except QBOError as exc:
            problem = f" QuickBooks did not confirm the revocation ({exc}); the tokens were removed here anyway."
    links = 0
    with firm.db.atomic():
        firm.db.execute("DELETE FROM qbo_connection")
        firm.db.execute("DELETE FROM qbo_pending_connect")
        if purge:
            links = _forget_links(firm.db)
    if conn is None:
        message = "Ledgerlink was not connected to QuickBooks."
    else:
        message = f"Disconnected from QuickBooks company {conn.company_name or conn.realm_id}.{problem}"
    if purge:
        message += f" Forgot {counted(links, 'link')} between ledger documents and QuickBooks."
    log.info("QBO disconnected by %s (purge=%s, revoked=%s)", firm.user, purge, revoked)
    return DisconnectResult(conn is not None, revoked, links, message)


def _forget_links(db) -> int:
    """Ask the sync store (built by the sync engine) to forget document links, if it exists."""
    try:
        sync_store = importlib.import_module("core.qbo.sync_store")
    except ImportError:
        return 0
    forget = getattr(sync_store, "forget_links", None)
    return int(forget(db) or 0) if forget else 0
