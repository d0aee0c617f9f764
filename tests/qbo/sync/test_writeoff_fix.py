"""The write-off guided fix against the local sandbox over HTTP: a write-off parked because its bad-debt account
has no QBO product/service is fixed from Ledgerlink (service and CLI) and goes with the next sync."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest

from core.cli import main
from core.errors import AuthError, ValidationError
from core.ledger import billing, demo, queries
from core.ledger.firm import add_client, create_firm
from core.qbo import payloads as P
from core.services import qbo as qbo_services
from core.services import sync
from core.services.writeoff import (
    create_writeoff_item, create_writeoff_item_async, writeoff_fix_for, writeoff_fixes,
)

from .sandboxed import cli_env, connect_and_map, sandbox_settings
from .test_sandbox_sync import qbo_objects


async def firm_with_a_writeoff(settings, sb, country: str = "UK"):
    """Connected and mapped (the bad-debt account GL-mapped) with no product/service for write-offs; an
    invoice and a write-off of part of it, synced: the invoice lands and the write-off parks."""
    firm = create_firm(settings, country, name="Wren & Co Solicitors")
    demo.ensure_ready(firm)
    await connect_and_map(firm, sb, writeoff_item=False)
    fee = queries.list_accounts(firm, subtypes=["fee_income"])[0]
    zero = next(r.id for r in queries.list_tax_rates(firm) if r.rate_ppm == 0)
    client = add_client(firm, "Late Payer Ltd").id
    inv = billing.create_invoice(firm, client_id=client, date="2026-04-01", lines=[dict(
        description="Advice", account_id=fee.id, quantity="2", unit_price="300.00", tax_rate_id=zero)])
    wo = billing.issue_credit_note(firm, invoice_id=inv.id, date="2026-09-30", kind="writeoff", amount="250.00")
    summary = await sync.run_sync(firm)
    assert summary.pushed == 1 and summary.parked == 1
    return firm, wo


async def assert_synced_with(sb, firm, wo, item_id: str) -> None:
    """The next sync pushes the write-off, whose line uses `item_id`, and nothing stays parked."""
    summary = await sync.run_sync(firm)
    assert summary.ok and summary.pushed == 1, summary.as_json()
    [memo] = [m for m in qbo_objects(sb, firm, "CreditMemo") if m["DocNumber"] == wo.number]
    assert memo["Line"][0]["SalesItemLineDetail"]["ItemRef"]["value"] == item_id


def bad_debt(firm):
    return queries.list_accounts(firm, subtypes=["bad_debt"])[0]


async def test_a_parked_write_off_is_fixed_from_ledgerlink_and_synced(settings, sandbox, caplog):
    firm, wo = await firm_with_a_writeoff(sandbox_settings(settings, sandbox), sandbox)
    try:
        bad = bad_debt(firm)
        [parked] = sync.parked(firm)
        assert parked.doc_id == wo.id and P.WRITEOFF_FIX in parked.reason and "GL account map" in parked.reason
        # Runs alone do not fix it: the reason is still there.
        assert (await sync.run_sync(firm)).parked == 1

        [fix] = writeoff_fixes(firm)
        gl = next(r for r in qbo_services.list_map(firm, "gl") if r.ledger_id == bad.id)
        assert (fix.account_id, fix.gl_status, fix.qbo_account_id) == (bad.id, "mapped", gl.qbo_id)
        assert fix.item_id is None and fix.parked == 1 and fix.can_create and not fix.ready
        assert gl.qbo_name in fix.next_step and P.WRITEOFF_FIX in fix.next_step
        assert writeoff_fix_for(firm, "credit_note", wo.id) == fix
        assert writeoff_fix_for(firm, "invoice", wo.invoice_id) is None
        # A write-off parked by an earlier version, under the old wording, counts too.
        firm.db.execute("UPDATE sync_queue SET reason = ? WHERE doc_type = 'credit_note'", [
            f"Account {bad.label} has no QuickBooks product/service for write-offs: map it in Mapping > GL account "
            "map, create a product/service posting to that QuickBooks account (e.g. 'Bad debt'), then refresh the "
            "reference data (Connect > Refresh)"])
        assert writeoff_fixes(firm)[0].parked == 1

        # QBO creates the item but the answer is lost: the retry carries the same requestid, so one item is made.
        sandbox.state.set_faults("drop-after@next:1/write:item")
        caplog.set_level(logging.INFO, logger="core.qbo.client")
        made = await create_writeoff_item_async(firm, bad.id)
        sandbox.state.set_faults(None)
        assert "Could not reach QuickBooks" in caplog.text, "the answer was really dropped"
        assert made.created and made.requeued == 1 and made.item_name == "Bad debt written off"
        assert [i["Name"] for i in qbo_objects(sandbox, firm, "Item")].count("Bad debt written off") == 1
        [item] = [i for i in qbo_objects(sandbox, firm, "Item") if i["Id"] == made.item_id]
        assert item["Type"] == "Service" and item["IncomeAccountRef"]["value"] == gl.qbo_id
        assert firm.db.execute("SELECT name FROM qbo_items WHERE id = ?", [made.item_id]).fetchone()[0] == item["Name"]
        counts = sync.queue_counts(firm)
        assert counts.parked == 0 and counts.queued == 1
        [fix] = writeoff_fixes(firm)
        assert fix.ready and fix.item_id == made.item_id and fix.parked == 0 and not fix.can_create
        assert writeoff_fix_for(firm, "credit_note", wo.id) is None  # queued again: it waits on nothing
        assert fix.next_step.startswith("Nothing to do")

        await assert_synced_with(sandbox, firm, wo, made.item_id)
        assert (await sync.reconcile(firm)).ok

        # Idempotent: a second call finds the item and creates nothing.
        again = await create_writeoff_item_async(firm, bad.id)
        assert not again.created and again.item_id == made.item_id and again.requeued == 0
        assert [i["Name"] for i in qbo_objects(sandbox, firm, "Item")].count("Bad debt written off") == 1
    finally:
        firm.close()


async def _create_item_in_qbo(firm, name: str, account: str) -> None:
    """What an admin would do in QBO's web UI."""
    client = await qbo_services.open_client(firm)
    try:
        await client.create("Item", {"Name": name, "Type": "Service", "IncomeAccountRef": {"value": account},
                                     "ExpenseAccountRef": {"value": account}}, requestid=None)
    finally:
        await client.aclose()


async def test_a_taken_name_is_numbered_and_a_name_given_is_not(settings, sandbox):
    firm, wo = await firm_with_a_writeoff(sandbox_settings(settings, sandbox), sandbox, country="US")
    try:
        bad = bad_debt(firm)
        # An item of the default name (any case) posting to an income account: the name is taken.
        income = firm.db.execute("SELECT id FROM qbo_accounts WHERE type = 'Income' ORDER BY id").fetchone()[0]
        await _create_item_in_qbo(firm, "bad debt written off", income)
        with pytest.raises(ValidationError, match="already has a product/service named Bad debt written off"):
            await create_writeoff_item_async(firm, bad.id, name="Bad debt written off")
        assert sync.queue_counts(firm).parked == 1
        made = await create_writeoff_item_async(firm, bad.id)
        assert made.created and made.item_name == "Bad debt written off (2)" and made.requeued == 1
        await assert_synced_with(sandbox, firm, wo, made.item_id)
    finally:
        firm.close()


async def test_an_item_made_in_qbo_ends_the_parking_by_itself(settings, sandbox):
    firm, wo = await firm_with_a_writeoff(sandbox_settings(settings, sandbox), sandbox)
    try:
        bad = bad_debt(firm)
        [fix] = writeoff_fixes(firm)
        await _create_item_in_qbo(firm, "Bad debts (made in QBO)", fix.qbo_account_id)
        await qbo_services.pull_reference_async(firm)  # Connect > Refresh
        assert sync.queue_counts(firm).parked == 1  # nothing put it back by hand
        [fix] = writeoff_fixes(firm)
        assert fix.item_name == "Bad debts (made in QBO)" and fix.parked == 1
        await assert_synced_with(sandbox, firm, wo, fix.item_id)
        assert writeoff_fixes(firm)[0].parked == 0
        made = await create_writeoff_item_async(firm, bad.id)
        assert not made.created and made.item_name == "Bad debts (made in QBO)"
    finally:
        firm.close()


async def test_clear_errors_not_bad_debt_and_not_gl_mapped(settings, sandbox):
    firm, _ = await firm_with_a_writeoff(sandbox_settings(settings, sandbox), sandbox)
    try:
        bad = bad_debt(firm)
        fee = queries.list_accounts(firm, subtypes=["fee_income"])[0]
        with pytest.raises(ValidationError, match=f"Account {fee.code} .* is not a bad-debt account"):
            await create_writeoff_item_async(firm, fee.id)
        qbo_services.unset_mapping(firm, "gl", bad.id)
        [fix] = writeoff_fixes(firm)
        assert fix.gl_status == "unmapped" and not fix.can_create and fix.parked == 1
        assert "Mapping > GL account map" in fix.next_step
        with pytest.raises(ValidationError, match="is not mapped to a QuickBooks account: .*Mapping > GL account map"):
            await create_writeoff_item_async(firm, bad.id)
        await sync.run_sync(firm)
        [parked] = sync.parked(firm)
        assert "map it to a QuickBooks account in Mapping > GL account map, then " + P.WRITEOFF_FIX in parked.reason
        assert not [i for i in qbo_objects(sandbox, firm, "Item") if "written off" in i["Name"]]
        assert sync.queue_counts(firm).parked == 1
    finally:
        firm.close()


def test_not_connected_says_connect_first(settings):
    firm = create_firm(settings, "UK", name="Offline & Co")
    try:
        demo.ensure_ready(firm)
        bad = bad_debt(firm)
        [fix] = writeoff_fixes(firm)
        assert fix.gl_status == "unmapped" and not fix.can_create
        assert fix.qbo_account_id is None and fix.item_id is None and "Mapping > GL account map" in fix.next_step
        with pytest.raises(AuthError, match="not connected to QuickBooks.*ledgerlink connect"):
            create_writeoff_item(firm, bad.id)
    finally:
        firm.close()


async def test_the_cli_shows_the_fix_and_creates_the_item(settings, sandbox, monkeypatch, capsys):
    s = sandbox_settings(settings, sandbox)
    firm, wo = await firm_with_a_writeoff(s, sandbox)
    bad = bad_debt(firm)
    firm.close()
    cli_env(monkeypatch, s, sandbox)
    code = await asyncio.to_thread(main, ["map", "writeoff"])
    out = capsys.readouterr().out
    assert code == 0 and f"{bad.code} {bad.name}: GL account map -> " in out
    assert "product/service -> none; 1 parked" in out and "ledgerlink map writeoff --create" in out
    code = await asyncio.to_thread(main, ["map", "writeoff", "--create", "--name", "Written-off fees", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["errors"] == []
    [result] = doc["results"]
    assert result["created"] and result["item_name"] == "Written-off fees" and result["requeued"] == 1
    [fix] = doc["fixes"]
    assert fix["ready"] and fix["item_id"] == result["item_id"] and fix["parked"] == 0
    code = await asyncio.to_thread(main, ["map", "writeoff", "--create"])
    out = capsys.readouterr().out
    assert code == 0 and "product/service -> Written-off fees" in out and "Nothing to do" in out
    code = await asyncio.to_thread(main, ["sync"])
    assert code == 0 and "1 pushed, 0 parked" in capsys.readouterr().out
