"""The parts of safe replays that need no QBO: payload digests, answer checks, and the signs of a restored
database read from what the last reconcile saw."""

from __future__ import annotations

import json

from core.qbo import replay


def test_the_digest_follows_the_payload_not_the_key_order():
    a = {"DocNumber": "INV-1", "CustomerRef": {"value": "5"}, "Line": [{"Amount": "10.00"}]}
    b = {"Line": [{"Amount": "10.00"}], "CustomerRef": {"value": "5"}, "DocNumber": "INV-1"}
    assert replay.digest(a) == replay.digest(b) and len(replay.digest(a)) == replay.DIGEST_CHARS
    assert replay.digest({**a, "DocNumber": "INV-2"}) != replay.digest(a)
    assert replay.digest({**a, "CustomerRef": {"value": "6"}}) != replay.digest(a)


def test_an_answer_for_another_document_is_caught_with_what_differs():
    sent = {"DocNumber": "INV-00007", "CustomerRef": {"value": "12"}, "PrivateNote": "Ledgerlink invoice 7"}
    same = {**sent, "Id": "130", "SyncToken": "0", "TotalAmt": "400.00"}
    assert replay.check_answer("Invoice", "create", sent, same, "Invoice INV-00007", "abc-i7v1g0t0C") is None
    other = {**same, "CustomerRef": {"value": "9"}, "PrivateNote": "Ledgerlink invoice 7"}
    bad = replay.check_answer("Invoice", "create", sent, other, "Invoice INV-00007", "abc-i7v1g0t0C")
    assert bad.fields == ("CustomerRef",) and bad.got["CustomerRef"] == "9"
    assert "restored from a backup" in bad.text() and "abc-i7v1g0t0C" in bad.text()
    lines = {**sent, "Line": [{"Amount": "400.00", "SalesItemLineDetail": {}}]}
    answered = {**lines, "Line": [{"Amount": "300.00", "SalesItemLineDetail": {}}, {"Amount": "300.00",
                                                                                   "SubTotalLineDetail": {}}]}
    assert replay.check_answer("Invoice", "create", lines, answered, "Invoice INV-00007", "r").fields \
        == ("LineAmounts",)
    pay = {"CustomerRef": {"value": "12"}, "TotalAmt": "50.00", "PrivateNote": "Ledgerlink payment 3"}
    wrong = replay.check_answer("Payment", "create", pay, {**pay, "TotalAmt": "75.00"}, "Payment 3", "r")
    assert wrong.fields == ("TotalAmt",)
    assert replay.check_answer("Customer", "create", {"DisplayName": "X- Estate (2)"},
                               {"DisplayName": "X- Estate"}, "Customer", "r").fields == ("DisplayName",)
    assert replay.check_answer("Invoice", "update", {"Id": "5", "SyncToken": "1"}, {"Id": "6"}, "x", "r").fields \
        == ("Id",)


def test_qbo_documents_written_for_unlinked_ledger_documents_are_signs_of_a_restore(firm):
    db = firm.db
    assert replay.restore_summary(db) is None
    db.execute("INSERT INTO sync_links (doc_type, doc_id, qbo_type, qbo_id, sync_token, updated_at) "
               "VALUES ('invoice', 1, 'Invoice', '101', '0', 'now')")
    mirror = [("Invoice", "101", {"Id": "101", "SyncToken": "0", "PrivateNote": "Ledgerlink invoice 1"})]
    for entity, id_, obj in mirror:
        db.execute("INSERT INTO qbo_mirror (entity, id, json) VALUES (?, ?, ?)", [entity, id_, json.dumps(obj)])
    assert replay.restore_signs(db) == [] and replay.restore_summary(db) is None
    db.execute("UPDATE qbo_mirror SET json = ? WHERE id = '101'",
               [json.dumps({"Id": "101", "SyncToken": "3", "PrivateNote": "Ledgerlink invoice 1"})])
    assert [s.kind for s in replay.restore_signs(db)] == ["token_behind"]
    assert replay.restore_summary(db) is None  # an edit in QBO does the same: not enough alone
    db.execute("INSERT INTO qbo_mirror (entity, id, json) VALUES ('Invoice', '102', ?)",
               [json.dumps({"Id": "102", "SyncToken": "0", "PrivateNote": "Ledgerlink invoice 2"})])
    summary = replay.restore_summary(db)
    assert summary["suspected"] and "restored from a backup or copied" in summary["message"]
    marked = [e for e in summary["examples"] if e["kind"] == "unlinked_marker"]
    assert [(e["doc_type"], e["doc_id"], e["qbo_id"]) for e in marked] == [("invoice", 2, "102")]


async def test_a_batch_answer_for_another_document_links_nothing_and_parks_for_support(demo_firm, qbo):
    """QBO's memory answers a batch requestid with the documents of an older batch (what a restored database
    met): each answer is checked against its own item of the batch."""
    from core.qbo import sync_store as S
    from core.qbo.sync import SyncEngine
    from core.services.sync import parked

    from .conftest import MappedSources

    original = qbo.batch

    async def answers_of_another_batch(items, *, requestid=None, encoded=None):
        out = await original(items, requestid=requestid, encoded=encoded)
        for answer in out:
            for entity in ("Invoice", "CreditMemo"):
                if entity in answer:
                    answer[entity] = {**answer[entity], "DocNumber": "OLD-" + str(answer[entity].get("DocNumber"))}
        return out

    qbo.batch = answers_of_another_batch
    summary = await SyncEngine(demo_firm.db, qbo, MappedSources(demo_firm), max_backoff=0.0).run()
    assert summary.parked > 0
    mismatched = [p for p in parked(demo_firm) if "with another document" in p.reason]
    assert mismatched and all("DocNumber OLD-" in p.reason for p in mismatched)
    for p in mismatched:
        assert S.get_link(demo_firm.db, p.doc_type, p.doc_id).qbo_id is None  # nothing linked
    assert replay.restore_summary(demo_firm.db)["suspected"]
