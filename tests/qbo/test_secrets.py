"""No token, authorization code or client secret reaches the log file, an exception message, the
status JSON, the printable settings or the connection info, whatever the flow."""

import json
import logging

import pytest

from core.errors import LedgerlinkError
from core.logs import setup_logging
from core.qbo import store
from core.qbo.connect import begin_connect, complete_connect_async, open_client
from core.services import qbo as svc
from core.services.setup import status_json
from core.settings import Settings
from tests.qbo.fakeqbo import FakeQBO, make_firm


@pytest.fixture
def log_file(settings, monkeypatch):
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [h for h in root.handlers if not getattr(h, "_ledgerlink", False)])
    level = root.level
    setup_logging(settings.log_file, level=logging.DEBUG)
    yield settings.log_file
    for h in root.handlers:
        if getattr(h, "_ledgerlink", False):
            h.close()
    root.setLevel(level)


async def test_secrets_stay_out_of_logs_errors_and_output(settings, log_file, caplog):
    caplog.set_level(logging.DEBUG)
    fake = FakeQBO()
    app = fake.app()
    firm = make_firm(settings)
    errors: list[Exception] = []
    codes: list[str] = []

    async def expect_error(coro):
        try:
            await coro
        except LedgerlinkError as exc:
            errors.append(exc)

    # a full connect, a bad paste, a reused code
    pending = begin_connect(firm, app)
    url = fake.approve(pending.url)
    codes.append(url.split("code=")[1].split("&")[0])
    await complete_connect_async(firm, url, app)
    await expect_error(complete_connect_async(firm, url, app))
    await expect_error(complete_connect_async(firm, url.replace("state=", "state=zz"), app))
    await svc.pull_reference_async(firm, app=app)

    # refresh before expiry, refresh after a 401, then a rejected refresh token
    firm.db.execute("UPDATE qbo_connection SET access_expires_at = 0")
    client = await open_client(firm, app)
    async with client:
        await client.preferences()
        fake.expire_access_tokens()
        await client.preferences()
        fake.expire_access_tokens()
        fake.refresh_tokens = {k: False for k in fake.refresh_tokens}
        await expect_error(client.preferences())
        await expect_error(client.read("Item", "zzz"))
    info = svc.connection(firm)
    status = json.dumps(status_json(firm))
    await svc.disconnect_async(firm, app=app)
    firm.close()

    secrets = set(fake.issued) | set(codes) | {fake.client_secret}
    assert len(secrets) >= 8
    logged = log_file.read_text() + "\n".join(r.getMessage() for r in caplog.records)
    assert "refreshed" in logged  # the log is written, and says what happened
    texts = {
        "log": logged,
        "errors": "\n".join(f"{e!s} {e!r} {getattr(e, 'detail', '')} {getattr(e, 'request', '')}" for e in errors),
        "status": status,
        "connection": repr(info) + json.dumps(info.as_json()),
        "app": repr(app),
    }
    assert len(errors) == 4
    for where, text in texts.items():
        for secret in secrets:
            assert secret not in text, f"a secret appeared in {where}"


def test_printable_settings_and_stored_rows_hide_secrets(settings):
    s = Settings(_env_file=None, db=settings.db, qbo={"client_id": "cid", "client_secret": "very-secret-value"})
    assert "very-secret-value" not in repr(s) + str(s) + s.model_dump_json()
    conn = store.StoredConnection("sandbox", "1", None, None, "access-123456", "refresh-123456", 0, None, None, "t", "u", "ok")
    assert "access-123456" not in repr(conn) and "refresh-123456" not in repr(conn)
