"""`ledgerlink sync` killed with SIGKILL at random moments and restarted until done: 0 duplicates, 0 missing.

Against the local sandbox over HTTP on 127.0.0.1; each request takes 1 s there, so kills land while
requests are in flight (QBO may have committed what the killed process never heard about).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys

from core.services import sync
from core.services.context import open_firm

from .sandboxed import demo_firm, sandbox_settings
from .test_sandbox_sync import assert_exactly_once


async def test_sigkill_at_random_moments_then_restart_until_done(settings, sandbox):
    s = sandbox_settings(settings, sandbox, batch_size=5)  # more, smaller requests: kills land between them
    firm = await demo_firm(s, sandbox, invoices=120, payments=70, credits=12, clients=15)
    firm.close()
    sandbox.state.set_faults("latency=1.0@1")
    env = {**os.environ, "LEDGERLINK_DB": str(s.db), "LEDGERLINK_QBO__ENVIRONMENT": "local",
           "LEDGERLINK_QBO__API_BASE": sandbox.base_url, "LEDGERLINK_QBO__CLIENT_ID": sandbox.client_id,
           "LEDGERLINK_QBO__CLIENT_SECRET": sandbox.client_secret,
           "LEDGERLINK_QBO__REDIRECT_URI": sandbox.redirect_uri}
    env.update({f"LEDGERLINK_SYNC__{k.upper()}": str(v) for k, v in s.sync.model_dump().items()})
    rng = random.Random(11)
    kills = runs = 0
    while runs < 40:
        runs += 1
        proc = subprocess.Popen([sys.executable, "-m", "tui.cli", "sync", "--once", "--json"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            proc.communicate(timeout=rng.uniform(0.9, 2.2) if kills < 5 else 120)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.communicate()
            kills += 1
            continue
        if proc.returncode == 0:
            break
    assert proc.returncode == 0, "the sync finished after the kills"
    assert kills >= 3, "runs were really killed mid-way"
    sandbox.state.set_faults(None)
    firm = open_firm(s)
    try:
        counts = sync.queue_counts(firm)
        assert counts.queued == counts.sending == counts.parked == 0
        assert_exactly_once(sandbox, firm)
        result = await sync.reconcile(firm)
        assert result.ok, result.as_json()
    finally:
        firm.close()
