"""The sync engine against an in-memory QBO: dependency order, exactly once, stale tokens, parking."""

from __future__ import annotations

from collections import Counter

import pytest

from core.errors import SyncError
from core.ledger import billing, queries
from core.qbo import sync_store as S
from core.qbo.sync import Row, SyncEngine, build_step, next_op, queue_counts

from .conftest import MappedSources
from .memqbo import SimulatedCrash


def engine(firm, qbo, **kw):
    sources = kw.pop("sources", None) or MappedSources(firm)
    return SyncEngine(firm.db, qbo, sources, max_backoff=0.0, **kw)


def assert_mirrors_ledger(firm, qbo):
    """Every live ledger document is in QBO exactly once, with the ledger's total; nothing else is."""
    db = firm.db
    for doc_type, entity, table in (("invoice", "Invoice", "invoices"), ("credit_note", "CreditMemo", "credit_notes"),
                                    ("payment", "Payment", "payments")):
        live = {r[0] for r in db.execute(f"SELECT id FROM {table} WHERE status = 'posted'")}
        links = {l.doc_id: l for l in S.all_links(db) if l.doc_type == doc_type and l.qbo_id}
        assert set(links) == live, doc_type
        objects = {o["Id"]: o for o in qbo.of(entity) if not o.get("PrivateNote", "").startswith("Ledgerlink applies")}
        assert sorted(l.qbo_id for l in links.values()) == sorted(objects), f"duplicates or strays in {entity}"
        for doc_id, link in links.items():
            assert link.qbo_total_minor == link.ledger_total_minor
    numbers = Counter(o["DocNumber"] for o in qbo.of("Invoice"))
    assert all(n == 1 for n in numbers.values())
    assert queue_counts(db).queued == 0 and queue_counts(db).sending == 0


def test_next_op_walks_a_credit_note_through_its_two_objects():
    row = Row("credit_note", 1, 2, "upsert", "queued")
    assert next_op(row, S.Link("credit_note", 1)) == ("credit_note", "create")
    linked = S.Link("credit_note", 1, qbo_id="5", sync_token="0", pushed_version=1, pushed_action="upsert")
    assert next_op(row, linked) == ("credit_note", "update")
    current = S.Link("credit_note", 1, qbo_id="5", sync_token="1", pushed_version=2, pushed_action="upsert")
    assert next_op(row, current) == ("apply", "create")
    applied = S.Link("credit_note", 1, qbo_id="5", sync_token="1", pushed_version=2, pushed_action="upsert",
                     apply_id="9", apply_sync_token="0", apply_version=1)
    assert next_op(row, applied) == ("apply", "update")
    done = S.Link("credit_note", 1, qbo_id="5", sync_token="1", pushed_version=2, pushed_action="upsert",
                  apply_id="9", apply_sync_token="1", apply_version=2)
    assert next_op(row, done) is None
    deleting = Row("credit_note", 1, 3, "delete", "queued")
    assert next_op(deleting, done) == ("apply", "delete")
    assert next_op(deleting, S.Link("credit_note", 1, qbo_id="5", sync_token="1")) == ("credit_note", "delete")
    assert next_op(deleting, S.Link("credit_note", 1)) is None


def test_an_update_whose_link_lost_its_synctoken_is_refused_not_sent_with_a_null_token():
    row = Row("credit_note", 1, 2, "upsert", "queued")
    link = S.Link("credit_note", 1, qbo_id="5", sync_token="1", pushed_version=2, pushed_action="upsert",
                  apply_id="9", apply_sync_token=None, apply_version=1)
    with pytest.raises(SyncError) as err:
        build_step("abc234", row, link, None, None, {}, {})
    assert str(err.value) == "Credit note: the stored link to QuickBooks has no application SyncToken"


def test_request_ids_are_short_deterministic_and_change_with_version_generation_and_try():
    rid = S.request_id("abc234", "invoice", 123456789, 99999, 12, 3, "create")
    assert rid == S.request_id("abc234", "invoice", 123456789, 99999, 12, 3, "create")
    assert len(rid) <= 36
    others = {S.request_id("abc234", "invoice", 123456789, v, g, t, op)
              for v, g, t, op in ((100000, 12, 3, "create"), (99999, 13, 3, "create"), (99999, 12, 4, "create"),
                                  (99999, 12, 3, "update"))}
    assert rid not in others and len(others) == 4
    assert S.request_id("abc234", "payment", 1, 1, 0, 0, "create") != S.request_id("abc234", "invoice", 1, 1, 0, 0,
                                                                                      "create")


def test_batch_request_ids_fit_the_batch_limit(firm):
    rids = {S.batch_request_id(firm.db) for _ in range(5)}
    assert len(rids) == 5 and all(len(r) <= 36 for r in rids)


async def test_a_demo_firm_lands_in_qbo_once_in_dependency_order(demo_firm, qbo):
    summary = await engine(demo_firm, qbo).run()
    assert summary.ok, summary.as_json()
    assert_mirrors_ledger(demo_firm, qbo)
    # customers were created once per client that has documents
    names = Counter(c["DisplayName"] for c in qbo.of("Customer"))
    assert all(n == 1 for n in names.values())
    # a second run sends nothing
    calls = qbo.calls
    again = await engine(demo_firm, qbo).run()
    assert again.pushed == 0 and qbo.calls == calls


async def test_edits_and_deletions_after_a_sync_update_and_delete_in_qbo(demo_firm, qbo):
    await engine(demo_firm, qbo).run()
    inv = next(i for i in queries.list_invoices(demo_firm, status="posted") if i.open_balance_minor == i.total_minor
               and not queries.list_credit_notes(demo_firm, invoice_id=i.id))
    billing.edit_invoice(demo_firm, inv.id, due_date="2027-01-31")
    pay = queries.list_payments(demo_firm, status="posted")[0]
    billing.delete_payment(demo_firm, pay.id)
    summary = await engine(demo_firm, qbo).run()
    assert summary.ok
    assert_mirrors_ledger(demo_firm, qbo)
    link = S.get_link(demo_firm.db, "invoice", inv.id)
    assert qbo.objects[("Invoice", link.qbo_id)]["DueDate"] == "2027-01-31"
    assert qbo.performed[("update", "Invoice")] >= 1


@pytest.mark.parametrize("fault", ["drop_before", "drop_after"])
async def test_dropped_connections_never_duplicate(demo_firm, qbo, fault):
    n = {"i": 0}

    def inject(op, entity, body):
        n["i"] += 1
        return fault if n["i"] % 3 == 0 else None

    qbo.inject = inject
    for _ in range(6):
        summary = await engine(demo_firm, qbo).run()
        if queue_counts(demo_firm.db).queued == 0 and not S.list_pending(demo_firm.db):
            break
    assert summary.counts.parked == 0
    assert_mirrors_ledger(demo_firm, qbo)


async def test_a_crash_after_qbo_committed_is_replayed_not_repeated(demo_firm, qbo):
    n = {"i": 0}

    def inject(op, entity, body):
        n["i"] += 1
        return "crash" if n["i"] in (5, 17) else None

    qbo.inject = inject
    for _ in range(4):
        try:
            await engine(demo_firm, qbo).run()
            break
        except SimulatedCrash:
            assert S.list_pending(demo_firm.db), "the request was written down before it was sent"
    assert_mirrors_ledger(demo_firm, qbo)


async def test_a_stale_sync_token_is_read_again_and_retried_once(demo_firm, qbo):
    await engine(demo_firm, qbo).run()
    inv = next(i for i in queries.list_invoices(demo_firm, status="posted")
               if not queries.list_credit_notes(demo_firm, invoice_id=i.id))
    link = S.get_link(demo_firm.db, "invoice", inv.id)
    qbo.objects[("Invoice", link.qbo_id)]["SyncToken"] = "7"  # someone edited it in QBO
    billing.edit_invoice(demo_firm, inv.id, due_date="2027-02-28")
    summary = await engine(demo_firm, qbo).run()
    assert summary.ok
    assert qbo.objects[("Invoice", link.qbo_id)]["DueDate"] == "2027-02-28"
    outcomes = [r["outcome"] for r in S.records(demo_firm.db, "invoice", inv.id)]
    assert outcomes[-2:] == ["stale", "ok"]


async def test_an_invoice_deleted_in_qbo_is_created_again_under_a_new_generation(demo_firm, qbo):
    await engine(demo_firm, qbo).run()
    inv = next(i for i in queries.list_invoices(demo_firm, status="posted")
               if i.open_balance_minor == i.total_minor and not queries.list_credit_notes(demo_firm, invoice_id=i.id))
    link = S.get_link(demo_firm.db, "invoice", inv.id)
    del qbo.objects[("Invoice", link.qbo_id)]
    billing.edit_invoice(demo_firm, inv.id, due_date="2027-03-31")
    summary = await engine(demo_firm, qbo).run()
    assert summary.ok
    new = S.get_link(demo_firm.db, "invoice", inv.id)
    assert new.generation == link.generation + 1 and new.qbo_id != link.qbo_id
    assert_mirrors_ledger(demo_firm, qbo)


async def test_unmapped_account_parks_with_the_fix_and_retries_by_itself_after_the_map(firm, qbo):
    inv, fee = one_invoice(firm, "300.00")
    inv_id = inv.id
    summary = await engine(firm, qbo, sources=MappedSources(firm, unmapped=(fee.id,))).run()
    assert summary.counts.parked == 1 and not summary.ok
    reason = firm.db.execute("SELECT reason FROM sync_queue WHERE doc_id = ?", [inv_id]).fetchone()[0]
    assert reason == (f"Account {fee.code} {fee.name} is not mapped to a Product/Service: "
                      "open Mapping > Sales invoice account map")
    assert qbo.of("Invoice") == []
    summary = await engine(firm, qbo).run()  # the map was added
    assert summary.ok and len(qbo.of("Invoice")) == 1


def one_invoice(firm, unit_price: str = "99.00"):
    """A client (with an apostrophe in its name) and one invoice of one fee line; returns (invoice, fee account)."""
    fee = queries.list_accounts(firm, subtypes=["fee_income"])[0]
    rate = queries.list_tax_rates(firm)[0]
    billing.create_invoice(firm, client_id=billing_client(firm), date="2026-03-01", lines=[
        dict(description="Advice", account_id=fee.id, quantity="1", unit_price=unit_price, tax_rate_id=rate.id)])
    return queries.list_invoices(firm)[0], fee


def _admin_links(firm, qbo, customer_id: str) -> None:
    from core.qbo.customers import remember_customer
    from core.services.customers import link_customer

    remember_customer(firm.db, qbo.objects[("Customer", customer_id)])
    link_customer(firm, billing_client_id(firm), customer_id)


def billing_client_id(firm) -> int:
    return firm.db.execute("SELECT id FROM contacts WHERE name = ?", ["Amy's Bird Sanctuary"]).fetchone()[0]


def billing_client(firm) -> int:
    from core.ledger.firm import add_client

    return add_client(firm, "Amy's Bird Sanctuary").id


async def test_a_qbo_refusal_is_parked_with_the_fault_kept_and_retried_by_hand(firm, qbo):
    theirs = qbo.add_customer("Amy's Bird Sanctuary")
    number = one_invoice(firm)[0].number
    _admin_links(firm, qbo, theirs)  # a same-name customer is linked only by the admin
    qbo._do("create", "Invoice", {"DocNumber": number, "Line": []})  # typed into QBO by hand
    summary = await engine(firm, qbo).run()
    assert summary.counts.parked == 1
    from core.services.sync import parked, parked_detail, retry

    [p] = parked(firm)
    assert p.kind == "qbo" and "already used by another document in QuickBooks" in p.reason
    detail = parked_detail(firm, "invoice", p.doc_id)
    assert detail.fault_code == "6140" and number in detail.request
    # the customer was found by its exact name (with an apostrophe), not created again
    assert len(qbo.of("Customer")) == 1
    # not retried by itself while nothing changed
    await engine(firm, qbo).run()
    assert queue_counts(firm.db).parked == 1
    next(o for o in qbo.of("Invoice") if o["DocNumber"] == number)["DocNumber"] = "OLD-1"
    assert retry(firm, "invoice", p.doc_id)
    summary = await engine(firm, qbo).run()
    assert summary.ok and queue_counts(firm.db).parked == 0


async def test_a_rejected_refresh_token_stops_the_run_and_loses_nothing(demo_firm, qbo):
    n = {"i": 0}

    def inject(op, entity, body):
        n["i"] += 1
        return "auth" if n["i"] >= 4 else None

    qbo.inject = inject
    summary = await engine(demo_firm, qbo).run()
    assert summary.stopped and summary.stopped.startswith("Reconnect to QuickBooks")
    assert queue_counts(demo_firm.db).sending == 0
    qbo.inject = None
    summary = await engine(demo_firm, qbo).run()
    assert summary.ok
    assert_mirrors_ledger(demo_firm, qbo)


async def test_switch_off_leaves_documents_waiting_and_sync_from_skips_older_ones(demo_firm, qbo):
    summary = await engine(demo_firm, qbo, sources=MappedSources(demo_firm, enabled=False)).run()
    assert "off" in summary.message and qbo.calls == 0 and queue_counts(demo_firm.db).queued > 0
    summary = await engine(demo_firm, qbo, sources=MappedSources(demo_firm, from_date="2026-06-01")).run()
    dates = [i["TxnDate"] for i in qbo.of("Invoice")]
    assert dates and min(dates) >= "2026-06-01"
    assert summary.skipped > 0


async def test_an_edit_while_its_push_is_in_flight_is_pushed_after_it(firm, qbo):
    inv, _ = one_invoice(firm)
    edited = {"done": False}

    def inject(op, entity, body):
        if entity == "Invoice" and not edited["done"]:
            edited["done"] = True  # the bookkeeper saves an edit while the create is on the wire
            billing.edit_invoice(firm, inv.id, due_date="2026-12-24")
        return None

    qbo.inject = inject
    summary = await engine(firm, qbo).run()
    assert summary.ok
    link = S.get_link(firm.db, "invoice", inv.id)
    assert link.pushed_version == queries.get_invoice(firm, inv.id).version == 2
    [obj] = qbo.of("Invoice")
    assert obj["DueDate"] == "2026-12-24"
    assert queue_counts(firm.db).done == 1


async def test_only_one_engine_pushes_at_a_time(demo_firm, qbo):
    import json
    import os

    from core.qbo.sync_store import acquire_engine_lock, release_engine_lock

    other = json.dumps({"owner": "Ledgerlink TUI", "pid": os.getppid(), "host": os.uname().nodename, "at": 9e12})
    demo_firm.db.execute("INSERT OR REPLACE INTO sync_meta (key, value) VALUES ('engine_lock', ?)", [other])
    summary = await engine(demo_firm, qbo).run()
    assert summary.message.startswith("Another sync is running (Ledgerlink TUI") and qbo.calls == 0
    # a lock left by a process that is gone (a crash) is taken over
    dead = json.dumps({"owner": "ledgerlink sync", "pid": 2 ** 22 + 12345, "host": os.uname().nodename, "at": 9e12})
    demo_firm.db.execute("UPDATE sync_meta SET value = ? WHERE key = 'engine_lock'", [dead])
    summary = await engine(demo_firm, qbo).run()
    assert summary.ok and qbo.calls > 0
    assert acquire_engine_lock(demo_firm.db, "test") is None  # released at the end of the run
    release_engine_lock(demo_firm.db)


async def test_a_payment_for_a_parked_invoice_says_why_the_invoice_is_parked(firm, qbo):
    inv, fee = one_invoice(firm)
    client = inv.client_id
    bank = queries.list_bank_accounts(firm, "operating")[0]
    billing.record_payment(firm, client_id=client, date="2026-03-05", amount="10.00", bank_account_id=bank.id,
                           allocations=[(inv.id, "10.00")])
    summary = await engine(firm, qbo, sources=MappedSources(firm, unmapped=(fee.id,))).run()
    assert summary.counts.parked == 2
    reason = firm.db.execute("SELECT reason FROM sync_queue WHERE doc_type = 'payment'").fetchone()[0]
    assert reason.startswith(f"The payment waits for invoice {inv.number}, which is parked: Account {fee.code}")
    summary = await engine(firm, qbo).run()  # the map is fixed: both go, invoice first
    assert summary.ok and len(qbo.of("Payment")) == 1
