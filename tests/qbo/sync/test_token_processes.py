"""Two real OS processes (`ledgerlink sync` and `ledgerlink reconcile`, then another `sync`) on one firm database
against one sandbox, with 5-second access tokens that the sandbox also kills every few calls: both refresh at
once, the lease in the firm database lets one refresh while the other waits and takes its tokens. No traceback,
no invalid_grant, every invoice once, reconcile clean."""

from __future__ import annotations

import os
import subprocess
import sys

from core.qbo import store
from core.sandbox.oauth import configure
from core.services import sync

from .sandboxed import cli_env, small_firm
from .test_token_faults import assert_each_once, post_invoices

CLI = "from core.cli import main; import sys; sys.exit(max(main(a.split()) for a in sys.argv[1:]))"


async def test_two_processes_refreshing_at_once_never_use_a_spent_token(settings, sandbox, monkeypatch, tmp_path):
    configure(sandbox.state, access_token_lifetime=5)  # rotation "always": a spent refresh token is dead
    firm = await small_firm(settings, sandbox)
    try:
        numbers = post_invoices(firm, 12)
        first = store.load_connection(firm.db)
        cli_env(monkeypatch, firm.settings, sandbox)
        monkeypatch.setenv("LEDGERLINK_SYNC__BATCH_SIZE", "2")
        logs = [tmp_path / "one.log", tmp_path / "two.log"]
        # the access token both processes share dies every 5th API call: both meet a 401 and refresh together
        sandbox.state.set_faults("expire-token@every:5,latency=0.02@1,503@every:3/oauth")
        runs = [("sync --once", "reconcile", "reconcile"), ("reconcile", "sync --once", "reconcile", "sync --once")]
        procs = [subprocess.Popen([sys.executable, "-c", CLI, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, env={**os.environ, "LEDGERLINK_LOG_FILE": str(log)})
                 for argv, log in zip(runs, logs)]
        outputs = [p.communicate(timeout=120) for p in procs]
        for out, err in outputs:
            assert "Traceback" not in out + err, err
            assert "Reconnect" not in out + err, out
        text = "".join(log.read_text() for log in logs)
        assert "invalid_grant" not in text and "Traceback" not in text
        assert text.count("QBO access token refreshed") >= 2  # both processes refreshed, in turn
        sandbox.state.set_faults(None)
        after = store.load_connection(firm.db)
        assert after.token_status == "ok" and after.refresh_token != first.refresh_token
        assert store.lease_holder(firm.db) is None
        live = sandbox.state.db.execute("SELECT count(*) FROM grants WHERE kind = 'refresh' AND state = 'live'"
                                        " AND token = ?", (after.refresh_token,)).fetchone()[0]
        assert live == 1  # the firm holds the one live refresh token
        summary = await sync.run_sync(firm)
        assert summary.ok, summary.as_json()
        assert_each_once(sandbox, firm, numbers)
        assert (await sync.reconcile(firm)).ok
    finally:
        firm.close()
