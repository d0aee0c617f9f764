"""Metered reads (QBO's CorePlus calls, reference §5.15) of a sync and of reconciles, against the local sandbox.

A UK demo firm of about 3,000 documents (60% invoices, 35% payments, 5% credit notes) is pushed by Ledgerlink,
then reconciled twice; then ten invoices are edited, synced, and reconciled once more. Every call the client makes is classed as QBO classes it: a GET (read, query, CDC,
preferences, company info) is metered, and so is each query inside a batch; creates, updates, deletes and voids
are not. Reported: metered calls of the sync per 1,000 documents pushed, of the first reconcile (a full read)
and of the second (change data capture), next to what a per-document read loop would cost (one read after each
write; one read per linked document in a reconcile).

    .venv/bin/python bench/metered.py            # about 3,000 documents
    .venv/bin/python bench/metered.py --small    # about 300
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.qbo.client import QBOClient, loads  # noqa: E402
from core.sandbox.served import running_sandbox  # noqa: E402
from core.services import sync  # noqa: E402
from core.settings import Settings  # noqa: E402
from tests.qbo.sync.sandboxed import demo_firm, sandbox_settings  # noqa: E402


class Meter:
    """Counts the metered and unmetered calls every QBOClient of this process makes."""

    def __init__(self):
        self.metered = 0
        self.writes = 0
        self._orig = QBOClient.request

    def install(self) -> None:
        meter, orig = self, self._orig

        async def counted(client, method, path, **kw):
            if method.upper() == "GET":
                meter.metered += 1
            elif path == "batch":
                body = kw.get("json") or (loads(kw["content"]) if kw.get("content") else {})
                items = body.get("BatchItemRequest", [])
                queries = sum(1 for i in items if "Query" in i)
                meter.metered += queries
                meter.writes += len(items) - queries
            else:
                meter.writes += 1
            return await orig(client, method, path, **kw)

        QBOClient.request = counted

    def take(self) -> tuple[int, int]:
        out = (self.metered, self.writes)
        self.metered = self.writes = 0
        return out


def _edit_some(firm, n: int) -> int:
    from core.ledger import billing, queries

    done = 0
    for inv in queries.list_invoices(firm, status="posted"):
        if done == n:
            break
        if inv.open_balance_minor == inv.total_minor:
            billing.edit_invoice(firm, inv.id, due_date="2027-06-30")
            done += 1
    return done


def run(documents: int, jobs: bool = False) -> dict:
    invoices, credits = documents * 60 // 100, documents * 5 // 100
    payments = documents - invoices - credits
    with tempfile.TemporaryDirectory() as tmp, running_sandbox(Path(tmp) / "sb.db", companies=["UK"]) as sb:
        settings = sandbox_settings(Settings(_env_file=None, db=Path(tmp) / "firm.db",
                                             log_file=Path(tmp) / "firm.log"), sb)
        firm = asyncio.run(demo_firm(settings, sb, clients=max(10, documents // 50), invoices=invoices,
                                     payments=payments, credits=credits, seed=5))
        if jobs:  # matters as QBO sub-customers (core.qbo.jobs), switched on before the first sync
            from core.services import customers

            customers.set_matters_as_jobs(firm, True)
        meter = Meter()
        meter.install()
        try:
            summary = asyncio.run(sync.run_sync(firm))
            sync_reads, sync_writes = meter.take()
            first = asyncio.run(sync.reconcile(firm))
            first_reads, _ = meter.take()
            second = asyncio.run(sync.reconcile(firm))
            second_reads, _ = meter.take()
            edited = _edit_some(firm, 10)  # a day's work: a few edits, synced, then the next reconcile
            asyncio.run(sync.run_sync(firm))
            edit_reads, _ = meter.take()
            third = asyncio.run(sync.reconcile(firm))
            third_reads, _ = meter.take()
            linked = firm.db.execute("SELECT count(*) FROM sync_links WHERE qbo_id IS NOT NULL").fetchone()[0]
            made_jobs = firm.db.execute("SELECT count(*) FROM sync_jobs WHERE qbo_id IS NOT NULL").fetchone()[0]
            spans = firm.db.execute("SELECT count(*) FROM sync_parked WHERE code = 'payment_spans_matters'"
                                    ).fetchone()[0]
        finally:
            QBOClient.request = meter._orig
            firm.close()
    pushed = summary.pushed
    return {
        "documents_pushed": pushed, "parked": summary.parked, "writes": sync_writes,
        "sync_metered": sync_reads, "sync_metered_per_1000": round(sync_reads * 1000 / max(pushed, 1), 1),
        "loop_metered_per_1000": 1000,
        "reconcile_first": {"metered": first_reads, "mode": first.read.mode, "ok": first.ok},
        "reconcile_second": {"metered": second_reads, "mode": second.read.mode, "ok": second.ok},
        "edits_synced": {"documents": edited, "metered": edit_reads},
        "reconcile_after_edits": {"metered": third_reads, "mode": third.read.mode, "ok": third.ok},
        "loop_reconcile_metered": linked,
        **({"jobs_made": made_jobs, "payments_parked_over_two_matters": spans} if jobs else {}),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="about 300 documents instead of 3,000")
    parser.add_argument("--jobs", action="store_true", help="matters as QuickBooks sub-customers (firm setting)")
    args = parser.parse_args()
    print(json.dumps(run(300 if args.small else 3000, jobs=args.jobs), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
