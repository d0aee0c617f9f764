"""What the sync keeps for support: a compact record for a success, the whole request and answer for a
refusal; a batch's body is written as JSON once, and that exact text is what is sent and replayed."""

from __future__ import annotations

import json
from decimal import Decimal

from core.ledger import queries
from core.qbo import sync_store as S
from core.qbo.sync import queue_counts

from .memqbo import SimulatedCrash
from .test_engine import assert_mirrors_ledger, engine


async def test_a_success_keeps_a_compact_record_of_what_qbo_holds(demo_firm, qbo):
    summary = await engine(demo_firm, qbo).run()
    assert summary.ok
    inv = queries.list_invoices(demo_firm, status="posted")[0]
    link = S.get_link(demo_firm.db, "invoice", inv.id)
    [record] = [r for r in S.records(demo_firm.db, "invoice", inv.id) if r["operation"] == "invoice:create"]
    assert record["outcome"] == "ok" and record["request_id"] and record["version"] == link.pushed_version
    assert record["request"] is None
    kept = json.loads(record["response"], parse_float=Decimal)
    assert set(kept) <= set(S.COMPACT_FIELDS) and "Line" not in kept
    assert (kept["Id"], kept["SyncToken"], kept["DocNumber"]) == (link.qbo_id, link.sync_token, inv.number)
    assert kept["TotalAmt"] * 100 == inv.total_minor == link.qbo_total_minor


async def test_a_refused_document_keeps_the_whole_request_and_fault_its_batch_siblings_a_compact_record(
        demo_firm, qbo):
    invoices = queries.list_invoices(demo_firm, status="posted")
    clash = invoices[3]
    qbo._do("create", "Invoice", {"DocNumber": clash.number, "Line": []})  # typed into QBO by hand
    summary = await engine(demo_firm, qbo).run()
    assert queue_counts(demo_firm.db).parked >= 1 and summary.requests < len(invoices)  # sent in batches
    [refused] = [r for r in S.records(demo_firm.db, "invoice", clash.id) if r["outcome"] == "parked"]
    request = json.loads(refused["request"])
    assert request["operation"] == "create" and request["Invoice"]["DocNumber"] == clash.number
    assert request["Invoice"]["Line"], "the lines that were sent are kept"
    assert refused["fault_code"] == "6140"
    assert "Duplicate Document Number" in json.loads(refused["response"])["Fault"]["Message"]
    siblings = demo_firm.db.execute("SELECT request, response FROM sync_records WHERE request_id = ? AND outcome = 'ok'",
                                    [refused["request_id"]]).fetchall()
    assert siblings, "the batch carried other documents"
    for request, response in siblings:
        assert request is None and "Id" in json.loads(response) and "Line" not in json.loads(response)


async def test_a_batch_is_sent_and_replayed_as_the_exact_text_written_before_sending(demo_firm, qbo):
    sent = []
    batch = qbo.batch

    async def spy(items, *, requestid=None, encoded=None):
        stored = demo_firm.db.execute("SELECT body FROM sync_pending WHERE request_id = ?", [requestid]).fetchone()
        sent.append((requestid, encoded, stored[0] if stored else None))
        return await batch(items, requestid=requestid, encoded=encoded)

    qbo.batch = spy
    qbo.inject = lambda op, entity, body: "crash" if op == "batch" and len(sent) == 2 else None
    try:
        await engine(demo_firm, qbo).run()
        raise AssertionError("the simulated crash did not happen")
    except SimulatedCrash:
        pass
    [(crashed_rid, stored)] = demo_firm.db.execute("SELECT request_id, body FROM sync_pending").fetchall()
    [crashed_text] = [text for rid, text, _ in sent if rid == crashed_rid]
    assert crashed_text == stored  # what went out is what was written down
    qbo.inject = None
    summary = await engine(demo_firm, qbo).run()
    replays = [text for rid, text, _ in sent if rid == crashed_rid]
    assert replays == [crashed_text, crashed_text]  # replayed byte for byte, answered from QBO's memory
    assert all(text == stored for _, text, stored in sent)
    assert summary.counts.parked == 0
    assert_mirrors_ledger(demo_firm, qbo)
