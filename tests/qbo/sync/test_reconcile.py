"""Reconcile reads QBO back and names what is missing, extra or different."""

from __future__ import annotations

import copy

from core.qbo import sync_store as S
from core.qbo.reconcile import reconcile
from core.qbo.sync import SyncEngine

from .conftest import MappedSources


async def test_reconcile_is_clean_after_a_sync_and_names_every_kind_of_difference(demo_firm, qbo):
    sources = MappedSources(demo_firm)
    before = await reconcile(demo_firm, qbo, sources)
    assert not before.ok and len(before.missing_in_qbo) == before.checked > 0

    await SyncEngine(demo_firm.db, qbo, sources, max_backoff=0.0).run()
    clean = await reconcile(demo_firm, qbo, sources)
    assert clean.ok, clean.as_json()
    assert clean.checked == before.checked

    links = [l for l in S.all_links(demo_firm.db) if l.doc_type == "invoice" and l.qbo_id]
    gone, changed, copied = links[0], links[1], links[2]
    del qbo.objects[("Invoice", gone.qbo_id)]
    qbo.objects[("Invoice", changed.qbo_id)]["TotalAmt"] += 1
    dup = copy.deepcopy(qbo.objects[("Invoice", copied.qbo_id)])
    dup["Id"] = "99999"
    qbo.objects[("Invoice", "99999")] = dup
    result = await reconcile(demo_firm, qbo, sources, full=True)
    assert result.read.mode == "full" and result.read.why == "asked"
    assert [m["doc_id"] for m in result.missing_in_qbo] == [gone.doc_id]
    assert [d["doc_id"] for d in result.different] == [changed.doc_id]
    assert result.different[0]["fields"] == ["total"]
    assert [e["qbo_id"] for e in result.extra_in_qbo] == ["99999"]
    assert result.income, "the duplicate and the lost invoice change income per item"
    doc = result.as_json()
    assert doc["ok"] is False and set(doc) >= {"checked", "missing_in_qbo", "extra_in_qbo", "different"}
