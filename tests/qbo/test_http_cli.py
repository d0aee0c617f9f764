"""The `ledgerlink` command itself, as subprocesses, against Intuit and QBO served over real HTTP on
127.0.0.1: connect in two steps (URL, then the pasted redirect), map, status, disconnect; and no secret in
the log file or the output."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.qbo.fakeqbo import FakeQBO, make_firm
from tests.qbo.sync.httpqbo import served

LEDGERLINK = str(Path(sys.executable).parent / "ledgerlink")


@pytest.fixture
def wire(settings):
    make_firm(settings).close()
    fake = FakeQBO()
    fake.latency = 0
    with served(fake) as base:
        env = dict(os.environ)
        env.update({
            "LEDGERLINK_DB": str(settings.db),
            "LEDGERLINK_QBO__ENVIRONMENT": "local",
            "LEDGERLINK_QBO__API_BASE": base,
            "LEDGERLINK_QBO__CLIENT_ID": fake.client_id,
            "LEDGERLINK_QBO__CLIENT_SECRET": fake.client_secret,
            "LEDGERLINK_QBO__REDIRECT_URI": fake.redirect_uri,
        })
        yield fake, env


def ledgerlink(env, *args, stdin=""):
    return subprocess.run([LEDGERLINK, *args], env=env, input=stdin, capture_output=True, text=True, timeout=60)


def test_connect_map_status_disconnect_over_http(wire):
    fake, env = wire
    started = ledgerlink(env, "connect", "--url-only")
    assert started.returncode == 0, started.stderr
    url = next(line for line in started.stdout.splitlines() if "/connect/oauth2?" in line)
    assert url.startswith(env["LEDGERLINK_QBO__API_BASE"] + "/connect/oauth2?")
    redirect = fake.approve(url)

    done = ledgerlink(env, "connect", "--complete", redirect)
    assert done.returncode == 0, done.stderr
    assert "Connected to Fake Law Co (realm 9130357, local)." in done.stdout
    assert "Reference data of Fake Law Co" in done.stdout

    replay = ledgerlink(env, "connect", "--complete", redirect)
    assert replay.returncode == 1 and "already finished" in replay.stderr

    assert ledgerlink(env, "map", "suggest", "--apply").returncode == 0
    status = json.loads(ledgerlink(env, "status", "--json").stdout)
    assert status["connection"]["realm_id"] == "9130357"
    assert status["connection"]["access_token_expires_at"]
    steps = {s["id"]: s for s in status["steps"]}
    assert steps["qbo_connected"]["ok"] and steps["qbo_zero_tax"]["ok"]
    assert steps["map_gl"]["ok"] and steps["map_tax"]["ok"]
    # suggestions leave fee-income accounts without a Product/Service: the step says so (issue 16)
    assert not steps["map_sales"]["ok"] and "not mapped" in steps["map_sales"]["message"]
    assert not steps["sync_enabled"]["ok"]

    out = ledgerlink(env, "disconnect")
    assert out.returncode == 0 and "Disconnected" in out.stdout
    assert fake.revoked

    log = Path(env["XDG_STATE_HOME"]) / "ledgerlink" / "ledgerlink.log"
    everything = log.read_text() + started.stdout + done.stdout + done.stderr + json.dumps(status)
    assert "connected to QBO realm 9130357" in everything
    for secret in [*fake.issued, fake.client_secret, redirect.split("code=")[1].split("&")[0]]:
        assert secret not in everything


def test_output_cut_short_by_a_pager_or_head_ends_without_a_traceback(tmp_path):
    env = dict(os.environ, LEDGERLINK_DB=str(tmp_path / "firm.db"), LEDGERLINK_LOG_FILE=str(tmp_path / "log"))
    # 800 invoices make about 120 kB of dry run, more than a pipe holds: the command is still writing when the
    # reader goes
    assert ledgerlink(env, "demo", "--clients", "20", "--invoices", "800", "--payments", "0",
                      "--credits", "0").returncode == 0
    proc = subprocess.Popen([LEDGERLINK, "sync", "--dry-run"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().startswith("== ")
    proc.stdout.close()  # what `| head -1` does once it has its line
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 141 and "Traceback" not in err and err == ""


def test_a_mistyped_database_path_is_not_created(tmp_path):
    env = dict(os.environ, LEDGERLINK_LOG_FILE=str(tmp_path / "log"))
    typo = tmp_path / "firms" / "hartley.db"
    done = ledgerlink(env, "--db", str(typo), "status", "--json")
    assert done.returncode == 1 and json.loads(done.stdout)["ok"] is False
    assert "There is no firm database at" in done.stderr and not typo.parent.exists()
