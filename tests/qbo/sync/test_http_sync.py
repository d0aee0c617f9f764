"""The sync through the real QBO client and token manager, over HTTP (httpx transport or a 127.0.0.1 socket),
against QBO's write rules: a demo firm of a few hundred documents with edits, deletions, payments, credit
notes and write-offs; faults of every kind; a revoked refresh token; no secret anywhere."""

from __future__ import annotations

from collections import Counter

import pytest

from core.ledger import billing, demo, queries
from core.ledger.firm import create_firm
from core.qbo import store
from core.qbo.connect import begin_connect, complete_connect_async, open_client
from core.services import qbo as qbo_services
from core.services import sync
from core.settings import SyncSettings

from .httpqbo import WireQBO


@pytest.fixture
def wire():
    return WireQBO()


@pytest.fixture
def fast(settings):
    """Retry waits and limit windows shrunk (settings.sync), never slept through at full length."""
    return settings.model_copy(update={"sync": SyncSettings(time_scale=0.001, max_backoff=1.0,
                                                            default_retry_after=1.0)})


async def connect_and_map(firm, wire, app) -> None:
    """Connect by pasting the redirect URL, pull, map by suggestion, then a product/service per income
    account the suggestions left unmapped (as an admin would), and switch Sales invoices on."""
    pending = begin_connect(firm, app)
    await complete_connect_async(firm, wire.approve(pending.url), app)
    await qbo_services.pull_reference_async(firm, app=app)
    for kind in qbo_services.KINDS:
        qbo_services.apply_suggestions(firm, qbo_services.suggest(firm, kind))
    missing = [row for row in qbo_services.list_map(firm, "sales") if row.status != "mapped"]
    for n, row in enumerate(missing):
        wire.ref["Item"].append({"Id": str(500 + n), "Name": row.ledger_name, "Type": "Service",
                                 "IncomeAccountRef": {"value": "79"}, "Active": True})
    await qbo_services.pull_reference_async(firm, app=app)
    for n, row in enumerate(missing):
        qbo_services.set_mapping(firm, "sales", row.ledger_id, str(500 + n))
    qbo_services.set_sync_enabled(firm, True)


async def demo_firm(settings, wire, *, invoices=150, payments=90, credits=20, clients=20):
    firm = create_firm(settings, "US", name="Hartley & Quinn Legal")
    demo.ensure_ready(firm)
    await connect_and_map(firm, wire, wire.app())
    demo.fill(firm, clients=clients, invoices=invoices, payments=payments, credits=credits, seed=3)
    qbo_services.apply_suggestions(firm, qbo_services.suggest(firm, "gl"))  # the demo's second trust account
    return firm


async def push(firm, wire, **kw):
    client = await open_client(firm, wire.app())
    try:
        return await sync.run_sync(firm, client=client, **kw)
    finally:
        await client.aclose()


async def check(firm, wire):
    client = await open_client(firm, wire.app())
    try:
        return await sync.reconcile(firm, client=client)
    finally:
        await client.aclose()


def assert_exactly_once(firm, wire) -> None:
    for entity, table in (("Invoice", "invoices"), ("CreditMemo", "credit_notes")):
        numbers = Counter(o["DocNumber"] for o in wire.mem.of(entity))
        live = {r[0] for r in firm.db.execute(f"SELECT number FROM {table} WHERE status = 'posted'")}
        assert set(numbers) == live and set(numbers.values()) <= {1}, entity
    notes = Counter(o.get("PrivateNote") for o in wire.mem.of("Payment"))
    live = firm.db.execute("SELECT count(*) FROM payments WHERE status = 'posted'").fetchone()[0]
    assert sum(1 for n in notes if n.startswith("Ledgerlink payment")) == live
    assert set(notes.values()) <= {1}


async def assert_mirrored(firm, wire) -> None:
    """Each live document once in QBO, and reconcile (reading QBO back) finds nothing."""
    assert_exactly_once(firm, wire)
    result = await check(firm, wire)
    assert result.ok, result.as_json()


async def test_a_demo_firm_over_http_lands_once_and_reconciles_clean(fast, wire):
    firm = await demo_firm(fast, wire)
    try:
        events = []
        summary = await push(firm, wire, progress=events.append)
        assert summary.ok, (summary.as_json(), [p.reason for p in sync.parked(firm)][:3])
        assert summary.pushed > 250 and summary.requests < summary.pushed / 3, "batches carry most documents"
        assert events[-1].counts.queued == 0 and events[-1].limiter is not None
        await assert_mirrored(firm, wire)
        # edits and deletions after the first push
        inv = next(i for i in queries.list_invoices(firm, status="posted") if i.open_balance_minor == i.total_minor
                   and not queries.list_credit_notes(firm, invoice_id=i.id))
        billing.edit_invoice(firm, inv.id, due_date="2027-01-31")
        billing.delete_payment(firm, queries.list_payments(firm, status="posted")[0].id)
        billing.delete_credit_note(firm, queries.list_credit_notes(firm, status="posted")[0].id)
        again = await push(firm, wire)
        assert again.ok and again.pushed == 3
        await assert_mirrored(firm, wire)
    finally:
        firm.close()


async def test_faults_of_every_kind_end_with_zero_duplicates_and_zero_missing(fast, wire):
    # Batches of 5: more requests, so every kind of fault meets batches and single requests alike.
    small = fast.model_copy(update={"sync": fast.sync.model_copy(update={"batch_size": 5})})
    firm = await demo_firm(small, wire, invoices=100, payments=60, credits=12)
    try:
        wire.faults(p500=0.1, p429=0.1, drop_before=0.1, drop_after=0.2, expire_every=10)
        for _ in range(6):
            summary = await push(firm, wire)
            if summary.ok:
                break
        assert summary.ok, summary.as_json()
        assert "refresh_token" in wire.token_calls, ("access tokens expired mid-run and were refreshed (rotated)",
                                                     dict(wire.injected), summary.as_json())
        assert min(wire.injected[k] for k in ("503", "429", "drop_before", "drop_after", "expire")) > 0, wire.injected
        assert wire.injected["replayed"] >= wire.injected["drop_after"] > 0, "answered from the requestid memory"
        wire.faults()
        # someone edits an invoice in QuickBooks meanwhile: our SyncToken is stale
        inv = next(i for i in queries.list_invoices(firm, status="posted") if i.open_balance_minor == i.total_minor
                   and not queries.list_credit_notes(firm, invoice_id=i.id))
        qbo_id = firm.db.execute("SELECT qbo_id FROM sync_links WHERE doc_type = 'invoice' AND doc_id = ?",
                                 [inv.id]).fetchone()[0]
        wire.mem.objects[("Invoice", qbo_id)]["SyncToken"] = "9"
        billing.edit_invoice(firm, inv.id, due_date="2027-02-28")
        summary = await push(firm, wire)
        assert summary.ok
        assert [r["outcome"] for r in sync.history(firm, "invoice", inv.id)][-2:] == ["stale", "ok"]
        assert wire.mem.objects[("Invoice", qbo_id)]["DueDate"] == "2027-02-28"
        await assert_mirrored(firm, wire)
    finally:
        firm.close()


async def test_a_revoked_refresh_token_stops_with_reconnect_and_loses_nothing(fast, wire):
    firm = await demo_firm(fast, wire, invoices=30, payments=15, credits=4)
    try:
        conn = store.load_connection(firm.db)
        wire.expire_access_tokens()
        wire.refresh_tokens[conn.refresh_token] = False  # revoked at Intuit
        summary = await push(firm, wire)
        assert summary.stopped and summary.stopped.startswith("Reconnect to QuickBooks")
        assert conn.refresh_token not in summary.stopped
        counts = sync.queue_counts(firm)
        assert counts.parked == 0 and counts.sending == 0 and counts.queued > 0
        app = wire.app()
        pending = begin_connect(firm, app)
        await complete_connect_async(firm, wire.approve(pending.url), app)
        summary = await push(firm, wire)
        assert summary.ok, summary.as_json()
        await assert_mirrored(firm, wire)
    finally:
        firm.close()


async def test_no_token_or_secret_in_the_log_the_sync_records_or_messages(fast, wire, app_log):
    firm = await demo_firm(fast, wire, invoices=30, payments=15, credits=4)
    try:
        wire.faults(p500=0.2, expire_every=10)
        await push(firm, wire)
        wire.faults()
        await push(firm, wire)
        conn = store.load_connection(firm.db)
        secrets = set(wire.issued) | {wire.client_secret, conn.access_token, conn.refresh_token}
        records = "\n".join(str(r) for r in firm.db.execute("SELECT * FROM sync_records").fetchall())
        messages = "\n".join(str(r) for r in firm.db.execute("SELECT reason FROM sync_queue").fetchall())
        log_text = app_log.read_text()
        assert records and "QBO call failed" in log_text
        for secret in secrets:
            assert secret not in records and secret not in messages and secret not in log_text
    finally:
        firm.close()


def test_dry_run_prints_the_exact_payloads_and_sends_nothing(fast, wire, capsys):
    import asyncio
    import json
    from decimal import Decimal

    from core.cli import main

    firm = asyncio.run(demo_firm(fast, wire, invoices=6, payments=3, credits=1, clients=3))
    try:
        calls = len(wire.api_calls)
        assert main(["--db", str(fast.db), "sync", "--dry-run", "--json"]) == 0
        previews = json.loads(capsys.readouterr().out, parse_float=Decimal)
        invoice = next(p for p in previews if p["doc_type"] == "invoice")
        assert invoice["operation"] == "create Invoice" and invoice["problem"] is None
        doc = queries.get_invoice(firm, invoice["doc_id"])
        body = invoice["body"]
        assert body["DocNumber"] == doc.number
        assert sum(line["Amount"] for line in body["Line"]) == Decimal(doc.subtotal_minor) / 100
        assert len(wire.api_calls) == calls and sync.queue_counts(firm).done == 0
    finally:
        firm.close()
