"""Edits go as full updates, so a QBO that refuses a sparse update carrying Line (2020: the strict reading of
reference §1.5) takes them; the fields QBO owns come from its last copy, TxnTaxDetail from the ledger."""

from __future__ import annotations

from core.errors import PermanentError
from core.ledger import billing, queries
from core.qbo import sync_store as S
from core.qbo.sync import SyncEngine

from .conftest import MappedSources
from .test_engine import one_invoice


async def test_a_line_edit_goes_as_a_full_update_where_sparse_lines_are_refused(firm, qbo):
    inv, fee = one_invoice(firm)
    run = lambda: SyncEngine(firm.db, qbo, MappedSources(firm), max_backoff=0.0).run()  # noqa: E731
    assert (await run()).ok
    link = S.get_link(firm.db, "invoice", inv.id)
    stored = qbo.objects[("Invoice", link.qbo_id)]
    stored["CustomerMemo"] = {"value": "Set by the bookkeeper"}  # what QBO holds besides our fields
    firm.db.execute("UPDATE qbo_mirror SET json = json_set(json, '$.CustomerMemo', json('{\"value\": "
                    "\"Set by the bookkeeper\"}')) WHERE entity = 'Invoice' AND id = ?", [link.qbo_id])

    async def strict_sparse(entity, body, *, requestid):
        if "Line" in body:
            raise PermanentError("Required param missing, need to supply the required value for the API",
                                 code="2020", status=400)
        return await qbo._write("update", entity, body, requestid)

    qbo.sparse_update = strict_sparse
    rate = queries.list_tax_rates(firm)[0]
    edited = billing.edit_invoice(firm, inv.id, lines=[
        dict(description="Advice", account_id=fee.id,
             quantity="3", unit_price="99.00", tax_rate_id=rate.id)])
    summary = await run()
    assert summary.ok and summary.pushed == 1, summary.as_json()
    after = qbo.objects[("Invoice", link.qbo_id)]
    assert [str(line["Amount"]) for line in after["Line"]] == ["297.00"]
    assert after["CustomerMemo"] == {"value": "Set by the bookkeeper"}
    [request] = [r for r in S.records(firm.db, "invoice", inv.id) if r["operation"] == "invoice:update"]
    assert request["outcome"] == "ok"
    assert edited.total_minor == int(after["TotalAmt"] * 100)


async def test_a_document_whose_qbo_copy_is_unknown_is_read_before_its_full_update(firm, qbo):
    """A firm upgraded from the previous release has no copies of its QBO documents: the first edit reads one."""
    inv, fee = one_invoice(firm)
    run = lambda: SyncEngine(firm.db, qbo, MappedSources(firm), max_backoff=0.0).run()  # noqa: E731
    assert (await run()).ok
    link = S.get_link(firm.db, "invoice", inv.id)
    qbo.objects[("Invoice", link.qbo_id)]["CustomerMemo"] = {"value": "Set by the bookkeeper"}
    firm.db.execute("DELETE FROM qbo_mirror")
    rate = queries.list_tax_rates(firm)[0]
    billing.edit_invoice(firm, inv.id, lines=[dict(description="Advice", account_id=fee.id, quantity="2",
                                                   unit_price="99.00", tax_rate_id=rate.id)])
    assert (await run()).ok
    after = qbo.objects[("Invoice", link.qbo_id)]
    assert after["CustomerMemo"] == {"value": "Set by the bookkeeper"}
    assert [str(line["Amount"]) for line in after["Line"]] == ["198.00"]
