"""`ledgerlink sync` killed with SIGKILL at random moments and restarted until done: 0 duplicates, 0 missing."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys

from core.ledger import demo
from core.ledger.firm import create_firm
from core.services import sync
from core.services.context import open_firm
from core.settings import QBOSettings, SyncSettings

from .httpqbo import WireQBO, served
from .test_http_sync import assert_exactly_once, connect_and_map


async def test_sigkill_at_random_moments_then_restart_until_done(settings):
    wire = WireQBO()
    with served(wire) as base:
        qbo = QBOSettings(environment="local", api_base=base, client_id=wire.client_id,
                          client_secret=wire.client_secret, redirect_uri=wire.redirect_uri)
        s = settings.model_copy(update={"qbo": qbo, "sync": SyncSettings(time_scale=0.001, max_backoff=1.0,
                                                                         default_retry_after=1.0)})
        firm = create_firm(s, "US", name="Crash Test LLP")
        demo.ensure_ready(firm)
        await connect_and_map(firm, wire, None)
        demo.fill(firm, clients=15, invoices=120, payments=70, credits=12, seed=5)
        firm.close()
        wire.latency = 0.4  # each request takes a moment, so kills land in the middle of runs
        env = {**os.environ, "LEDGERLINK_DB": str(s.db), "LEDGERLINK_QBO__ENVIRONMENT": "local",
               "LEDGERLINK_QBO__API_BASE": base, "LEDGERLINK_QBO__CLIENT_ID": wire.client_id,
               "LEDGERLINK_QBO__CLIENT_SECRET": wire.client_secret,
               "LEDGERLINK_QBO__REDIRECT_URI": wire.redirect_uri, "LEDGERLINK_SYNC__TIME_SCALE": "0.001",
               "LEDGERLINK_SYNC__MAX_BACKOFF": "1", "LEDGERLINK_SYNC__DEFAULT_RETRY_AFTER": "1",
               "LEDGERLINK_SYNC__BATCH_SIZE": "5"}  # more, smaller requests: kills land between them
        rng = random.Random(11)
        kills = runs = 0
        while runs < 40:
            runs += 1
            proc = subprocess.Popen([sys.executable, "-m", "tui.cli", "sync", "--once", "--json"], env=env,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=os.getcwd())
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
        assert wire.injected["replayed"] > 0, "a request QBO committed for a killed run was replayed, not repeated"
        wire.latency = 0.0
        firm = open_firm(s)
        try:
            counts = sync.queue_counts(firm)
            assert counts.queued == counts.sending == counts.parked == 0
            assert_exactly_once(firm, wire)
            result = await sync.reconcile(firm)
            assert result.ok, result.as_json()
        finally:
            firm.close()
