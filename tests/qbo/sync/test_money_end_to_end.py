"""US and CA demo firms (multi-line taxed invoices, partial and full payments, credit notes and write-offs)
pushed to the sandbox over HTTP: afterwards no document differs from QBO, none is parked, reconcile agrees.

Pending other branches (the lead merges them): wt-sandbox's company setting `tax_overrides` (on/off) — these
tests then run once per value; wt-money's overpayments as client credit — then the demo's payments include
overpayments, which go as unapplied credit (TotalAmt above the lines, see test_money_push.py)."""

from __future__ import annotations

import pytest

from core.services import sync

from .sandboxed import demo_firm, sandbox_settings


@pytest.mark.parametrize("country", ["US", "CA"])
async def test_a_demo_firm_lands_with_no_difference_and_nothing_parked(settings, sandbox, country):
    firm = await demo_firm(sandbox_settings(settings, sandbox), sandbox, country=country, invoices=40, payments=30,
                           credits=8, clients=8, standard_only=False)
    try:
        summary = await sync.run_sync(firm)
        assert summary.ok, (summary.as_json(), [p.reason for p in sync.parked(firm)][:5])
        assert summary.differences == () and summary.differences_parked == 0 and summary.counts.parked == 0
        assert "differ from QuickBooks" not in summary.message
        taxed = firm.db.execute("SELECT count(*) FROM sync_links WHERE doc_type = 'invoice' AND qbo_tax_minor > 0"
                                ).fetchone()[0]
        assert taxed > 0, "the demo charges tax: the comparison covered taxed invoices"
        assert firm.db.execute("SELECT count(*) FROM sync_links WHERE doc_type = 'invoice' AND "
                               "qbo_tax_minor != ledger_tax_minor").fetchone()[0] == 0
        result = await sync.reconcile(firm)
        assert result.ok, result.as_json()
    finally:
        firm.close()
