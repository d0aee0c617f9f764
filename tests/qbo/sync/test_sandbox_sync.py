"""The sync engine end to end against the local sandbox over HTTP: a demo firm of a few hundred documents,
faults of every kind, a revoked refresh token; afterwards 0 duplicates, 0 missing and reconcile is clean."""

from __future__ import annotations


from decimal import Decimal

import logging
from collections import Counter

from core.ledger import billing, queries
from core.qbo import store
from core.services import qbo as qbo_services
from core.services import sync

from .sandboxed import demo_firm, sandbox_settings


def qbo_objects(sb, firm, entity: str) -> list[dict]:
    realm = store.load_connection(firm.db).realm_id
    return sb.state.entities(realm, entity)


def assert_exactly_once(sb, firm) -> None:
    for entity in ("Invoice", "CreditMemo"):
        numbers = Counter(o.get("DocNumber") for o in qbo_objects(sb, firm, entity))
        assert [n for n, c in numbers.items() if c > 1] == [], f"duplicate {entity}"
    notes = Counter(o.get("PrivateNote") for o in qbo_objects(sb, firm, "Payment"))
    assert [n for n, c in notes.items() if c > 1 and n and n.startswith("Ledgerlink payment")] == []


async def test_a_demo_firm_syncs_with_edits_and_deletions_and_reconciles_clean(settings, sandbox):
    firm = await demo_firm(sandbox_settings(settings, sandbox), sandbox)
    try:
        seen = []
        summary = await sync.run_sync(firm, progress=seen.append)
        assert summary.ok, (summary.as_json(), [p.reason for p in sync.parked(firm)][:5])
        assert summary.pushed > 300 and seen and seen[-1].counts.queued == 0
        assert summary.requests < summary.pushed / 3, "batches carry most documents"
        result = await sync.reconcile(firm)
        assert result.ok, result.as_json()
        # edits and deletions after the first push
        inv = next(i for i in queries.list_invoices(firm, status="posted") if i.open_balance_minor == i.total_minor
                   and not queries.list_credit_notes(firm, invoice_id=i.id))
        billing.edit_invoice(firm, inv.id, due_date="2027-01-31")
        billing.delete_payment(firm, queries.list_payments(firm, status="posted")[0].id)
        note = queries.list_credit_notes(firm, status="posted")[0]
        billing.delete_credit_note(firm, note.id)
        again = await sync.run_sync(firm)
        assert again.ok and again.pushed == 3
        result = await sync.reconcile(firm)
        assert result.ok, result.as_json()
        assert_exactly_once(sandbox, firm)
    finally:
        firm.close()


async def test_faults_of_every_kind_end_with_zero_duplicates_and_zero_missing(settings, sandbox, caplog):
    # Batches of 5: more requests, so the faults meet batches and single requests alike.
    firm = await demo_firm(sandbox_settings(settings, sandbox, batch_size=5), sandbox, invoices=120, payments=70,
                           credits=15)
    caplog.set_level(logging.INFO, logger="core.qbo.client")
    try:
        sandbox.state.set_faults("500@0.1,429@0.1,drop-before@0.05/write,drop-after@0.1/write,expire-token@every:25")
        for _ in range(8):
            summary = await sync.run_sync(firm)
            if summary.ok:
                break
        sandbox.state.set_faults(None)
        assert summary.ok, summary.as_json()
        seen = " ".join(r.getMessage() for r in caplog.records)
        for what in ("server error", "throttled", "Could not reach QuickBooks", "refreshing the access token"):
            assert what in seen, (f"no fault of the kind {what!r} happened", summary.as_json())
        # someone edits an invoice in QuickBooks: our SyncToken is stale
        inv = next(i for i in queries.list_invoices(firm, status="posted") if i.open_balance_minor == i.total_minor
                   and not queries.list_credit_notes(firm, invoice_id=i.id))
        client = await qbo_services.open_client(firm)
        try:
            link = firm.db.execute("SELECT qbo_id FROM sync_links WHERE doc_type = 'invoice' AND doc_id = ?",
                                   [inv.id]).fetchone()[0]
            current = await client.read("Invoice", link)
            await client.sparse_update("Invoice", {"Id": link, "SyncToken": current["SyncToken"],
                                                   "CustomerMemo": {"value": "edited in QBO"}}, requestid=None)
        finally:
            await client.aclose()
        billing.edit_invoice(firm, inv.id, due_date="2027-02-28")
        summary = await sync.run_sync(firm)
        assert summary.ok
        outcomes = [r["outcome"] for r in sync.history(firm, "invoice", inv.id)]
        assert "stale" in outcomes
        result = await sync.reconcile(firm)
        assert result.ok, result.as_json()
        assert_exactly_once(sandbox, firm)
    finally:
        firm.close()


async def test_a_revoked_refresh_token_stops_with_reconnect_and_loses_nothing(settings, sandbox):
    firm = await demo_firm(sandbox_settings(settings, sandbox), sandbox, invoices=40, payments=20, credits=5)
    try:
        conn = store.load_connection(firm.db)
        sandbox.state.expire_access_tokens()
        grant = sandbox.state.grant(conn.refresh_token)["grant_id"]
        with sandbox.state.atomic():
            sandbox.state.revoke_grant(grant)
        before = {e: len(qbo_objects(sandbox, firm, e)) for e in ("Invoice", "Payment", "CreditMemo")}
        summary = await sync.run_sync(firm)
        assert summary.stopped and summary.stopped.startswith("Reconnect to QuickBooks")
        assert conn.refresh_token not in summary.stopped
        assert sync.queue_counts(firm).queued > 0 and sync.queue_counts(firm).parked == 0
        assert {e: len(qbo_objects(sandbox, firm, e)) for e in before} == before
        pending = qbo_services.begin_connect(firm)
        await qbo_services.complete_connect_async(
            firm, sandbox.approve(pending.url, realm_id=sandbox.realm_ids["UK"]))
        summary = await sync.run_sync(firm)
        assert summary.ok, summary.as_json()
        assert (await sync.reconcile(firm)).ok
    finally:
        firm.close()


async def test_no_token_or_secret_in_the_log_the_sync_records_or_errors(settings, sandbox, app_log):
    s = sandbox_settings(settings, sandbox)
    firm = await demo_firm(s, sandbox, invoices=30, payments=15, credits=5)
    try:
        sandbox.state.set_faults("expire-token@next:1,500@next:3")
        await sync.run_sync(firm)
        sandbox.state.set_faults(None)
        await sync.run_sync(firm)
        conn = store.load_connection(firm.db)
        secrets = [conn.access_token, conn.refresh_token, sandbox.client_secret]
        records = "\n".join(str(r) for r in firm.db.execute("SELECT * FROM sync_records").fetchall())
        reasons = "\n".join(str(r) for r in firm.db.execute("SELECT reason FROM sync_queue").fetchall())
        log_text = app_log.read_text()
        assert records and "QBO call failed" in log_text
        for secret in secrets:
            assert secret not in records and secret not in reasons and secret not in log_text
    finally:
        firm.close()


async def test_tax_rounded_per_line_agrees_with_qbo_to_the_penny(settings, sandbox):
    """Lines whose 5% tax rounds differently per line than per rate: the ledger and QBO agree (both per line)."""
    from core.ledger.firm import add_client, create_firm
    from core.ledger import demo as ledger_demo

    from .sandboxed import connect_and_map

    firm = create_firm(sandbox_settings(settings, sandbox), "UK", name="Penny & Co")
    try:
        ledger_demo.ensure_ready(firm)
        await connect_and_map(firm, sandbox)
        fee = queries.list_accounts(firm, subtypes=["fee_income"])[0]
        reduced = next(r for r in queries.list_tax_rates(firm) if r.rate_percent == "5")
        client = add_client(firm, "Penny Lane Ltd").id
        billing.create_invoice(firm, client_id=client, date="2026-05-01", lines=[
            dict(description=d, account_id=fee.id, quantity=q, unit_price=p, tax_rate_id=reduced.id)
            for d, q, p in (("Drafting", "5.75", "250.00"), ("Advice", "18.25", "185.00"), ("Hearing", "6.25", "450.00"))])
        inv = queries.list_invoices(firm)[0]
        summary = await sync.run_sync(firm)
        assert summary.ok and not summary.differences
        [qbo_inv] = [e for e in sandbox.state.entities(sandbox.realm_ids["UK"], "Invoice")
                     if e["DocNumber"] == inv.number]
        assert Decimal(str(qbo_inv["TotalAmt"])) * 100 == inv.total_minor
        result = await sync.reconcile(firm)
        assert result.ok and not result.different
    finally:
        firm.close()
