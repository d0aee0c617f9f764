"""Metered reads (reference 5.15) a sync and a reconcile cost, counted by the client's own meter.

A UK demo firm of about N mixed documents (60% invoices, 35% payments, 5% credit notes), connected to the local
sandbox over real HTTP (limits off: this counts calls, it does not time them), mapped, synced once, then
reconciled twice. Reported from the firm's qbo_metered_reads: the reads of connecting and mapping, of the sync
per 1,000 documents pushed, and of each reconcile; beside them what a per-document read loop would cost (one
GET per document pushed, and one per document checked).

    .venv/bin/python bench/metered_reads.py                 # about 1,000 documents
    .venv/bin/python bench/metered_reads.py --documents 3000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.qbo import store  # noqa: E402
from core.qbo.metering import metered_reads  # noqa: E402
from core.sandbox.served import running_sandbox  # noqa: E402
from core.services import sync  # noqa: E402
from core.settings import Settings  # noqa: E402
from tests.qbo.sync.sandboxed import demo_firm, sandbox_settings  # noqa: E402


def reads(firm) -> int:
    conn = store.load_connection(firm.db)
    return metered_reads(firm.db, conn.realm_id, firm.settings.sync.metered_reads_budget).count


def run(tmp: Path, documents: int) -> dict:
    invoices, credits = documents * 60 // 100, documents * 5 // 100
    payments = documents - invoices - credits
    with running_sandbox(tmp / "sb.db", companies=["UK"]) as sb:
        settings = sandbox_settings(Settings(_env_file=None, db=tmp / "firm.db", log_file=tmp / "firm.log"), sb,
                                    time_scale=0.001, max_backoff=1.0, default_retry_after=1.0)
        sb.state.set_limits("off")
        firm = asyncio.run(demo_firm(settings, sb, clients=max(10, documents // 50), invoices=invoices,
                                     payments=payments, credits=credits, seed=5))
        try:
            setup = reads(firm)
            summary = asyncio.run(sync.run_sync(firm))
            after_sync = reads(firm)
            first = asyncio.run(sync.reconcile(firm))
            after_first = reads(firm)
            second = asyncio.run(sync.reconcile(firm))
            after_second = reads(firm)
        finally:
            firm.close()
    pushed = summary.pushed
    return {
        "documents_pushed": pushed,
        "sync_ok": summary.ok,
        "reconcile_ok": [first.ok, second.ok],
        "reads_connect_and_map": setup,
        "reads_sync": after_sync - setup,
        "reads_sync_per_1000_pushed": round((after_sync - setup) * 1000 / max(pushed, 1), 1),
        "reads_first_reconcile": after_first - after_sync,
        "reads_second_reconcile": after_second - after_first,
        "per_document_loop_per_1000_pushed": 1000,
        "per_document_loop_per_reconcile": pushed,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(json.dumps(run(Path(tmp), args.documents), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
