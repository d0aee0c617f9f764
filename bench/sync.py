"""Sync benchmark, against the local sandbox (core.sandbox) over real HTTP on 127.0.0.1.

Part 1, throttled: a UK demo firm of about 3,000 mixed documents (60% invoices, 35% payments, 5% credit
notes and write-offs) pushed with QBO's real limits (500 requests a minute, 40 batches of 30 a minute,
10 in flight) run in scaled time: the sandbox's "minute", the client's limiter and retry waits and the
sandbox's per-request latency (200 ms) are all multiplied by the same factor. The throttle ceiling is the most
documents a minute the limits allow when every document is one write:
    ceiling = batches_per_minute x batch_size + (requests_per_minute - batches_per_minute)
Reported: documents per (scaled) minute as a fraction of the ceiling (target: at least 0.90), and QBO
writes per minute as a fraction of it (a credit note takes two writes, the credit memo and the payment
applying it; new customers take one query per 40 names and their creates). The run starts idle, so its
first window's budget is all there at once; the strict figure divides by what the throttles admit from idle
in the windows the run touched (ceiling x ceil(minutes)). The client also keeps QBO's 10 requests a second.

Part 2, unthrottled: 500 invoices pushed by Ledgerlink, and the same invoices (same bodies, other
DocNumbers) created one request at a time by a python-quickbooks loop, in the same run, against the same
sandbox running as `ledgerlink sandbox` in a process of its own (QBO is another machine) with its limits off
(and Ledgerlink's own limiter scaled out of the way), at a given per-request latency (0, 20 and 100 ms by
default; a real QBO round trip is 100-300 ms). The sandbox's invoice count is checked after each client.
Reported: the loop's time / Ledgerlink's time. Target: at least 10x.

    .venv/bin/python bench/sync.py                  # part 1 at time scale 0.2, part 2 at 0, 20 and 100 ms
    .venv/bin/python bench/sync.py --small          # 600 documents, then 100 invoices
    .venv/bin/python bench/sync.py --part 2 --latency 0 0.1
    .venv/bin/python bench/sync.py --part 2 --latency 0 --profile /tmp/sync.prof   # then: python -m pstats
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import logging
import math
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.ledger import queries  # noqa: E402
from core.qbo import payloads as P  # noqa: E402
from core.qbo import store  # noqa: E402
from core.sandbox.served import running_sandbox, sandbox_process  # noqa: E402
from core.services import sync  # noqa: E402
from core.services.sync import FirmSources  # noqa: E402
from core.settings import QBOSettings, Settings, SyncSettings  # noqa: E402
from tests.qbo.sync.sandboxed import demo_firm, sandbox_settings  # noqa: E402

QBO_LATENCY = 0.2  # seconds a real QBO round trip takes, before time scaling


class _ThrottleCounter(logging.Handler):
    """Counts the 429s the client met (each is logged as a failed call before its retry)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record):
        if "QuickBooks throttled the request" in record.getMessage():
            self.count += 1


def _firm(tmp: Path, name: str, sb, scale: float, **fill):
    settings = sandbox_settings(Settings(_env_file=None, db=tmp / f"{name}.db", log_file=tmp / f"{name}.log"), sb,
                                time_scale=scale, max_backoff=60.0, default_retry_after=60.0)
    firm = asyncio.run(demo_firm(settings, sb, **fill))
    return firm, settings


def part1(tmp: Path, *, documents: int, scale: float) -> dict:
    invoices = documents * 60 // 100
    credits = documents * 5 // 100
    payments = documents - invoices - credits
    with running_sandbox(tmp / "sb1.db", companies=["UK"]) as sb:
        firm, settings = _firm(tmp, "p1", sb, scale, clients=max(10, documents // 50), invoices=invoices,
                               payments=payments, credits=credits, seed=5)
        s = settings.sync
        # The run starts idle: the setup's requests (connect, pull, maps; counted by a limiter of their own)
        # leave the sandbox's window, as they would long before a sync of this size.
        sb.state.set_limits(window=60.0 * scale)
        sb.state.set_faults(f"latency={QBO_LATENCY * scale}@1")
        counter = _ThrottleCounter()
        logging.getLogger("core.qbo").addHandler(counter)
        try:
            queued = sync.queue_counts(firm).queued
            start = time.perf_counter()
            summary = asyncio.run(sync.run_sync(firm))
            seconds = time.perf_counter() - start
            assert summary.ok, summary.as_json()
            sb.state.set_faults(None)
            reconciled = asyncio.run(sync.reconcile(firm)).ok
            writes = summary.writes
        finally:
            logging.getLogger("core.qbo").removeHandler(counter)
            firm.close()
    throttled = counter.count
    minutes = seconds / (60.0 * scale)
    ceiling = s.batches_per_minute * s.batch_size + (s.requests_per_minute - s.batches_per_minute)
    # Strict: the run starts with empty windows, so in m minutes the throttles admit up to ceiling x ceil(m).
    admitted = ceiling * math.ceil(minutes)
    return dict(queued=queued, pushed=summary.pushed, requests=summary.requests, writes=writes, seconds=seconds,
                scale=scale, minutes=minutes, rate=summary.pushed / minutes, ceiling=ceiling,
                fraction=summary.pushed / minutes / ceiling, write_fraction=writes / minutes / ceiling,
                admitted=admitted, strict=summary.pushed / admitted, reconciled=reconciled, throttled=throttled)


def _pqb_client(sb, conn):
    from intuitlib.client import AuthClient
    from quickbooks import QuickBooks

    os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"  # plain HTTP is allowed for 127.0.0.1 only
    auth = AuthClient(sb.client_id, sb.client_secret, sb.redirect_uri, environment=sb.discovery_url,
                      access_token=conn.access_token, refresh_token=conn.refresh_token, realm_id=conn.realm_id)
    qb = QuickBooks(auth_client=auth, refresh_token=conn.refresh_token, company_id=conn.realm_id,
                    minorversion=75, use_decimal=True)
    qb.api_url_v3 = qb.sandbox_api_url_v3 = f"{sb.base_url}/v3"
    return qb


def _unthrottled_settings(tmp: Path, name: str, sb) -> Settings:
    """The firm's settings for a sandbox in another process whose limits are off: Ledgerlink's own limiter
    (500 a minute, 10 a second) run at a time scale of 1/1000, as python-quickbooks has no limiter at all."""
    qbo = QBOSettings(environment="local", api_base=sb.base_url, client_id=sb.client_id,
                      client_secret=sb.client_secret, redirect_uri=sb.redirect_uri)
    base = Settings(_env_file=None, db=tmp / f"{name}.db", log_file=tmp / f"{name}.log")
    return base.model_copy(update={"qbo": qbo, "sync": SyncSettings(time_scale=0.001, max_backoff=60.0,
                                                                     default_retry_after=60.0)})


def part2(tmp: Path, *, invoices: int, latency: float, profile: str | None = None) -> dict:
    from quickbooks.objects.invoice import Invoice

    # The sandbox runs as `ledgerlink sandbox` in its own process (QBO is another machine), limits off,
    # every request delayed by `latency` (the setup's too: connect, pull and maps just take longer).
    with sandbox_process(tmp / f"sb2-{latency}.db", companies=["UK"], limits="off",
                         faults=f"latency={latency}@1" if latency else None) as sb:
        settings = _unthrottled_settings(tmp, f"p2-{latency}", sb)
        firm = asyncio.run(demo_firm(settings, sb, clients=20, invoices=invoices, payments=0, credits=0, seed=9))
        try:
            qb = _pqb_client(sb, store.load_connection(firm.db))
            seeded = Invoice.count(qb=qb)
            profiler = cProfile.Profile() if profile else None
            sb_cpu, cpu, start = _cpu_of(sb), time.process_time(), time.perf_counter()
            if profiler:
                profiler.enable()
            summary = asyncio.run(sync.run_sync(firm))
            if profiler:
                profiler.disable()
                profiler.dump_stats(profile)
            ours = time.perf_counter() - start
            ours_cpu, ours_sb_cpu = time.process_time() - cpu, _cpu_of(sb) - sb_cpu
            assert summary.ok, summary.as_json()
            sources = FirmSources(firm)
            ctx = sources.context()
            customers = dict(firm.db.execute("SELECT client_id, qbo_id FROM sync_customers"))
            bodies = []
            for inv in queries.list_invoices(firm, status="posted"):
                body = P.invoice_payload(sources.document("invoice", inv.id), ctx, customers).body()
                body["DocNumber"] = "Q" + body["DocNumber"][-20:]
                bodies.append(body)
            # The demo deletes a few of its invoices (never pushed: counted in `pushed` as done, not sent).
            assert Invoice.count(qb=qb) == seeded + len(bodies)
            sb_cpu, cpu, start = _cpu_of(sb), time.process_time(), time.perf_counter()
            for body in bodies:
                Invoice.from_json(body).save(qb=qb)
            theirs = time.perf_counter() - start
            theirs_cpu, theirs_sb_cpu = time.process_time() - cpu, _cpu_of(sb) - sb_cpu
            assert Invoice.count(qb=qb) == seeded + 2 * len(bodies)
        finally:
            firm.close()
    return dict(invoices=len(bodies), pushed=summary.pushed, requests=summary.requests, ours=ours, theirs=theirs,
                ratio=theirs / ours, latency=latency, ours_cpu=ours_cpu, ours_sb_cpu=ours_sb_cpu,
                theirs_cpu=theirs_cpu, theirs_sb_cpu=theirs_sb_cpu)


def _cpu_of(sb) -> float:
    """CPU seconds (user + system) the sandbox's process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{sb._proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", action="store_true")
    parser.add_argument("--scale", type=float, default=0.2, help="time scale of part 1 (0.2: a minute lasts 12 s)")
    parser.add_argument("--part", choices=("1", "2", "both"), default="both")
    parser.add_argument("--latency", type=float, nargs="+", default=[0.0, 0.02, 0.1],
                        help="part 2's sandbox latencies in seconds (default 0 0.02 0.1)")
    parser.add_argument("--profile", metavar="FILE", help="part 2: cProfile Ledgerlink's sync into FILE (the last "
                        "latency's run; its times then include the profiler's overhead)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if args.part in ("1", "both"):
            r = part1(tmp, documents=600 if args.small else 3000, scale=args.scale)
            print(f"part 1: {r['pushed']} documents ({r['writes']} QBO writes in {r['requests']} requests) in {r['seconds']:.1f} s = {r['minutes']:.2f} scaled minutes "
                  f"(scale {r['scale']}): {r['rate']:.0f} documents/minute against a ceiling of {r['ceiling']} = "
                  f"{r['fraction']:.2f} (target 0.90); writes {r['write_fraction']:.2f} of the ceiling; strictly, "
                  f"{r['pushed']} of the {r['admitted']} documents the throttles admit from idle in "
                  f"{math.ceil(r['minutes'])} windows = {r['strict']:.2f}; reconcile "
                  f"{'clean' if r['reconciled'] else 'NOT clean'}; 429s met: {r['throttled']}")
        if args.part in ("2", "both"):
            for latency in args.latency:
                r = part2(tmp, invoices=100 if args.small else 500, latency=latency, profile=args.profile)
                print(f"part 2 (latency {latency * 1000:.0f} ms): {r['invoices']} invoices: Ledgerlink "
                      f"{r['ours']:.2f} s ({r['requests']} requests), python-quickbooks loop {r['theirs']:.2f} s: "
                      f"{r['ratio']:.1f}x faster (target 10x); CPU per invoice: Ledgerlink's client "
                      f"{r['ours_cpu'] / r['invoices'] * 1000:.2f} ms + sandbox {r['ours_sb_cpu'] / r['invoices'] * 1000:.2f} ms, "
                      f"the loop's client {r['theirs_cpu'] / r['invoices'] * 1000:.2f} ms + sandbox "
                      f"{r['theirs_sb_cpu'] / r['invoices'] * 1000:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
