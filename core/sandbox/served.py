"""Running the sandbox on a real loopback port: `running_sandbox` for tests, `start_embedded` for the app,
`sandbox_process` for `ledgerlink sandbox` in a process of its own (as QBO is another machine).

    with running_sandbox(tmp_path / "sandbox.db") as sb:
        httpx.get(sb.base_url + "/.well-known/openid-configuration")
        sb.state.set_faults("500@next:1")
        redirect = sb.approve(auth_url, realm_id=sb.realm_ids["US"])

    with running_sandbox(tmp_path / "sandbox.db", company_settings={"CA": {"tax_overrides": True}}) as sb:
        sb.state.company(sb.realm_ids["US"]).settings["sparse_line"] = "replace"   # or set_company_setting
        sb.state.metered(sb.realm_ids["US"])                                       # CorePlus calls this month

    with sandbox_process(tmp_path / "sandbox.db", companies=["UK"], limits="off", faults="latency=0.1@1") as sb:
        redirect = sb.approve(auth_url, realm_id=sb.realm_ids["UK"])   # no sb.state: it lives over there
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
from abc import ABC, abstractmethod
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from core.errors import ConfigError
from core.sandbox.connection import transport_var
from core.sandbox.app import build_app
from core.sandbox.store import SandboxState


class _Protocol(H11Protocol):
    """uvicorn's h11 protocol, telling the app its connection so a fault can drop it."""

    def connection_made(self, transport) -> None:
        # A pre-bound socket's connections do not get TCP_NODELAY: without it every keep-alive
        # request waits ~40 ms for a delayed ACK.
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)

    def data_received(self, data: bytes) -> None:
        token = transport_var.set(self.transport)
        try:
            super().data_received(data)
        finally:
            transport_var.reset(token)


class _Consent(ABC):
    """What a client of a served sandbox needs: its URLs, and a user's Approve (or Deny) on the consent page.
    Subclasses provide base_url, client_id, client_secret, redirect_uri and realm_ids."""

    @property
    @abstractmethod
    def base_url(self) -> str: ...

    @property
    @abstractmethod
    def client_id(self) -> str: ...

    @property
    @abstractmethod
    def redirect_uri(self) -> str: ...

    @property
    @abstractmethod
    def realm_ids(self) -> dict[str, str]: ...

    @property
    def discovery_url(self) -> str:
        return self.base_url + "/.well-known/openid-configuration"

    def approve(self, auth_url: str, realm_id: str | None = None, *, deny: bool = False) -> str:
        """Drive the consent page like a user pressing Approve (or Deny); returns the redirect URL."""
        page = httpx.get(auth_url, timeout=10)
        if page.status_code != 200:
            raise ConfigError(f"The consent page refused the request: {page.text}")
        params = {k: v[0] for k, v in parse_qs(urlsplit(auth_url).query).items()}
        form = {k: params.get(k, "") for k in ("client_id", "redirect_uri", "response_type", "scope", "state")}
        form["realmId"] = realm_id or self.realm_ids.get("US") or next(iter(self.realm_ids.values()))
        form["action"] = "deny" if deny else "approve"
        answer = httpx.post(self.base_url + "/connect/oauth2", data=form, timeout=10)
        if answer.status_code != 302:
            raise ConfigError(f"The consent page did not redirect: {answer.text}")
        return answer.headers["location"]

    def authorize_url(self, scope: str = "com.intuit.quickbooks.accounting openid", state: str = "st") -> str:
        from urllib.parse import urlencode

        return self.base_url + "/connect/oauth2?" + urlencode(
            {"client_id": self.client_id, "response_type": "code", "scope": scope,
             "redirect_uri": self.redirect_uri, "state": state})


class RunningSandbox(_Consent):
    """A sandbox served by uvicorn in a background thread."""

    def __init__(self, state: SandboxState, host: str = "127.0.0.1", port: int = 0):
        self.state = state
        self.host = host
        config = uvicorn.Config(build_app(state), host=host, port=port, http=_Protocol, lifespan="off",
                                log_level="warning", access_log=False, timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(config)
        self._sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._sock.bind((host, port))
        except OSError as exc:
            self._sock.close()
            raise ConfigError(f"The sandbox cannot listen on {host}:{port}: {exc.strerror}") from exc
        self.port = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, name="qbo-sandbox", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def client_id(self) -> str:
        return self.state.client_id

    @property
    def client_secret(self) -> str:
        return self.state.client_secret

    @property
    def redirect_uri(self) -> str:
        return self.state.redirect_uri

    @property
    def realm_ids(self) -> dict[str, str]:
        return self.state.realm_ids

    def _serve(self) -> None:
        asyncio.run(self._server.serve(sockets=[self._sock]))

    def start(self) -> "RunningSandbox":
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise ConfigError(f"The sandbox on {self.base_url} stopped while starting")
            self._thread.join(0.01)
        httpx.get(self.discovery_url, timeout=5).raise_for_status()
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(10)
        self._sock.close()
        self.state.close()


def start_embedded(db_path: Path | str, *, host: str = "127.0.0.1", port: int = 0, **options: Any) -> RunningSandbox:
    """Start a sandbox that keeps running until `.stop()`; options as for SandboxState."""
    state = SandboxState(db_path, **options)
    try:
        return RunningSandbox(state, host, port).start()
    except BaseException:
        state.close()
        raise


@contextmanager
def running_sandbox(db_path: Path | str, **options: Any) -> Iterator[RunningSandbox]:
    sandbox = start_embedded(db_path, **options)
    try:
        yield sandbox
    finally:
        sandbox.stop()


class SandboxProcess(_Consent):
    """`ledgerlink sandbox` in a process of its own, as QBO is another machine: its clients do not share a
    core (or the GIL) with it. What it prints on start (URL, client, realms) is read back here; its run-time
    controls (`state`) stay in that process, so faults and limits are given when it starts."""

    def __init__(self, db_path: Path | str, *, host: str = "127.0.0.1", port: int = 0,
                 companies: tuple[str, ...] | list[str] = (), faults: str | None = None, limits: str | None = None,
                 company_settings: list[str] | tuple[str, ...] = ()):
        self.db_path = Path(db_path)
        self.args = ["sandbox", "--db", str(self.db_path), "--host", host, "--port", str(port)]
        for country in companies:
            self.args += ["--company", country]
        for flag, value in (("--faults", faults), ("--limits", limits)):
            if value:
                self.args += [flag, value]
        for setting in company_settings:  # "[CC:]KEY=VALUE"
            self.args += ["--company-setting", setting]
        self.log_path = self.db_path.with_suffix(".log")
        self.said = {"base_url": "", "client_id": "", "client_secret": "", "redirect_uri": ""}  # printed on start
        self._realm_ids: dict[str, str] = {}
        self._proc: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return self.said["base_url"]

    @property
    def client_id(self) -> str:
        return self.said["client_id"]

    @property
    def client_secret(self) -> str:
        return self.said["client_secret"]

    @property
    def redirect_uri(self) -> str:
        return self.said["redirect_uri"]

    @property
    def realm_ids(self) -> dict[str, str]:
        return self._realm_ids

    def start(self) -> "SandboxProcess":
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                [sys.executable, "-c", "from core.cli import main; raise SystemExit(main())", *self.args],
                stdout=subprocess.PIPE, stderr=log, text=True, env=dict(os.environ),
            )
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            key, _, value = line.strip().partition(": ")
            if line.startswith("QBO sandbox serving at "):
                self.said["base_url"] = line.split()[-1]
            elif key in ("client id", "client secret", "redirect URI"):
                self.said[{"client id": "client_id", "client secret": "client_secret",
                           "redirect URI": "redirect_uri"}[key]] = value.strip()
            elif key.startswith("company "):
                self._realm_ids[key.split()[1]] = value.split()[-1]
            elif line.startswith("Press Ctrl-C"):
                break
        if not self.base_url or self._proc.poll() is not None:
            self.stop()
            raise ConfigError(f"`ledgerlink sandbox` did not start: {self.log_path.read_text()[-2000:]}")
        httpx.get(self.discovery_url, timeout=5).raise_for_status()
        return self

    def stop(self) -> int | None:
        """Stop the process as a service manager does (SIGTERM: a clean stop) and wait for it; returns its exit
        status."""
        proc, self._proc = self._proc, None
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout:
            proc.stdout.close()
        return proc.returncode


@contextmanager
def sandbox_process(db_path: Path | str, **options: Any) -> Iterator[SandboxProcess]:
    """`ledgerlink sandbox` running in its own process for the block; options as for SandboxProcess."""
    sandbox = SandboxProcess(db_path, **options).start()
    try:
        yield sandbox
    finally:
        sandbox.stop()
