"""Reconcile reads only what changed since the last reconcile (QBO's change data capture), everything with
--full, on the first run, or when the last read is older than CDC keeps changes; against the real sandbox."""

from __future__ import annotations

import datetime as dt

from core.ledger import billing
from core.ledger.firm import add_client
from core.qbo import mirror
from core.services import sync

from .sandboxed import fee_line, in_qbo, small_firm


async def test_a_second_reconcile_reads_only_the_changes_and_still_sees_qbo_side_edits(settings, sandbox):
    firm = await small_firm(settings, sandbox)
    try:
        client = add_client(firm, "Ashdown Farm").id
        invs = [billing.create_invoice(firm, client_id=client, date="2026-10-01", lines=[fee_line(firm)])
                for _ in range(3)]
        assert (await sync.run_sync(firm)).ok
        first = await sync.reconcile(firm)
        assert first.ok, first.as_json()
        assert (first.read.mode, first.read.why, first.read.calls) == ("full", "first", 4)  # 3 queries, 1 for the clock

        again = await sync.reconcile(firm)
        assert again.ok and (again.read.mode, again.read.calls) == ("cdc", 1)

        links = dict(firm.db.execute("SELECT doc_id, qbo_id FROM sync_links WHERE doc_type = 'invoice'"))

        async def tamper(c):  # a bookkeeper in QuickBooks deletes one invoice and re-dates another
            gone = await c.read("Invoice", links[invs[0].id])
            await c.delete("Invoice", gone["Id"], gone["SyncToken"], requestid=None)
            moved = await c.read("Invoice", links[invs[1].id])
            await c.sparse_update("Invoice", {"Id": moved["Id"], "SyncToken": moved["SyncToken"],
                                              "TxnDate": "2026-10-05"}, requestid=None)

        await in_qbo(firm, tamper)
        seen = await sync.reconcile(firm)
        assert seen.read.mode == "cdc" and seen.read.calls == 1
        assert [m["doc_id"] for m in seen.missing_in_qbo] == [invs[0].id]
        assert [(d["doc_id"], d["fields"]) for d in seen.different] == [(invs[1].id, ["date"])]
        assert seen.as_json()["read"] == {"mode": "cdc", "why": "changes", "since": seen.read.since, "calls": 1}

        full = await sync.reconcile(firm, full=True)
        assert (full.read.mode, full.read.why) == ("full", "asked")
        assert full.missing_in_qbo == seen.missing_in_qbo and full.different == seen.different
    finally:
        firm.close()


async def test_a_reconcile_after_more_than_cdc_days_reads_everything(settings, sandbox):
    firm = await small_firm(settings, sandbox)
    try:
        assert (await sync.reconcile(firm)).read.why == "first"
        old = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=mirror.CDC_DAYS + 1)).isoformat()
        firm.db.execute("UPDATE sync_meta SET value = ? WHERE key = 'mirror_read_at'", [old])
        late = await sync.reconcile(firm)
        assert (late.read.mode, late.read.why) == ("full", "stale")
    finally:
        firm.close()
