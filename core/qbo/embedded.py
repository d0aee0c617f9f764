"""The app's QBO settings resolved, including the embedded default.

With no client id configured (`settings.qbo.effective_environment() == 'local'` and no explicit API base),
Ledgerlink starts the local QBO sandbox in-process on a free loopback port and connects to it, so a
newcomer's first run works end to end. The sandbox keeps its state in a sqlite file next to the firm
database, and the realm and tokens are stored in the firm database, so a later run (on another port)
reconnects to the same sandbox company.
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.errors import ConfigError
from core.qbo.oauth import AppConfig
from core.settings import LOCAL_CLIENT_ID, LOCAL_CLIENT_SECRET, LOCAL_REDIRECT_URI, Settings

log = logging.getLogger(__name__)

_running: dict[Path, Any] = {}  # the sandbox's handles: QBO's client knows no sandbox type
_lock = threading.Lock()
# How to start the built-in sandbox: given by the services layer (core.services.wiring), since QBO's client knows
# no sandbox. It takes the sandbox's database path and returns a handle with base_url, approve() and stop().
_start_local: Callable[[Path], Any] | None = None


def use_local_sandbox(start: Callable[[Path], Any]) -> None:
    """Say how the built-in sandbox is started (the services layer does, once)."""
    global _start_local
    _start_local = start


def sandbox_db_for(settings: Settings) -> Path:
    """The embedded sandbox's database: beside the firm database."""
    db = Path(settings.db)
    return db.with_name(db.stem + ".sandbox.db")


def uses_embedded(settings: Settings) -> bool:
    return settings.qbo.effective_environment() == "local" and not settings.qbo.api_base


def embedded_sandbox(settings: Settings):
    """Start (once per process and database) the in-process local sandbox; returns its handle."""
    path = sandbox_db_for(settings)
    with _lock:
        if path not in _running:
            if _start_local is None:
                raise ConfigError(
                    "No QuickBooks app is configured (LEDGERLINK_QBO__CLIENT_ID) and the built-in sandbox "
                    "is not available here: set LEDGERLINK_QBO__CLIENT_ID and its secret"
                )
            handle = _start_local(path)
            _running[path] = handle
            log.info("embedded QBO sandbox started at %s (db %s)", handle.base_url, path)
        return _running[path]


def approve_locally(settings: Settings, auth_url: str, country: str | None = None) -> str | None:
    """On the built-in sandbox, approve the consent screen as its admin would (choosing the company of
    the firm's country) and return the redirect URL; None when the firm talks to a real Intuit app."""
    if not uses_embedded(settings):
        return None
    sb = embedded_sandbox(settings)
    return sb.approve(auth_url, realm_id=sb.realm_ids.get((country or "").upper()))


def stop_all() -> None:
    with _lock:
        for handle in _running.values():
            try:
                handle.stop()
            except Exception:  # shutting down: nothing useful to do with a failure here
                log.exception("stopping the embedded sandbox failed")
        _running.clear()


atexit.register(stop_all)


def app_config(settings: Settings, transport=None) -> AppConfig:
    """The Intuit app (or local sandbox) this firm talks to, every endpoint resolved."""
    qbo = settings.qbo
    env = qbo.effective_environment()
    if uses_embedded(settings):
        sb = embedded_sandbox(settings)
        return AppConfig(
            environment="local",
            endpoints=qbo.endpoints(local_base=sb.base_url),
            client_id=getattr(sb, "client_id", LOCAL_CLIENT_ID),
            client_secret=getattr(sb, "client_secret", LOCAL_CLIENT_SECRET),
            redirect_uri=getattr(sb, "redirect_uri", LOCAL_REDIRECT_URI),
            scope=qbo.scope,
            minor_version=qbo.minor_version,
            transport=transport,
        )
    if env == "local":
        client_id = qbo.client_id or LOCAL_CLIENT_ID
        secret = qbo.client_secret.get_secret_value() if qbo.client_secret else LOCAL_CLIENT_SECRET
        redirect = qbo.redirect_uri or LOCAL_REDIRECT_URI
        endpoints = qbo.endpoints(local_base=qbo.api_base)
    else:
        if not qbo.client_id or not qbo.client_secret or not qbo.redirect_uri:
            raise ConfigError(
                "The Intuit app is not fully configured: set LEDGERLINK_QBO__CLIENT_ID, "
                "LEDGERLINK_QBO__CLIENT_SECRET and LEDGERLINK_QBO__REDIRECT_URI"
            )
        client_id, secret, redirect = qbo.client_id, qbo.client_secret.get_secret_value(), qbo.redirect_uri
        endpoints = qbo.endpoints()
        if env == "production" and not redirect.startswith("https://"):
            raise ConfigError("Production redirect URIs must be HTTPS (LEDGERLINK_QBO__REDIRECT_URI)")
    return AppConfig(
        environment=env,
        endpoints=endpoints,
        client_id=client_id,
        client_secret=secret,
        redirect_uri=redirect,
        scope=qbo.scope,
        minor_version=qbo.minor_version,
        transport=transport,
    )
