"""A difference between the ledger and QBO, produced by the sandbox over HTTP, is never silent: the document parks
with both figures, the cause and the fixes that apply, and the sync summary says so."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

import pytest

from core.cli import main
from core.errors import ValidationError
from core.ledger import billing, demo, queries
from core.ledger.firm import add_client, add_tax_rate, create_firm
from core.services import qbo as qbo_services
from core.services import sync

from .sandboxed import cli_env, connect_and_map, sandbox_settings


async def test_a_penny_of_tax_difference_is_reported(settings, sandbox, monkeypatch, capsys):
    """A BC firm charges GST and PST as the template's rate of two components (5% + 7%), mapped to QuickBooks'
    'GST/PST BC' code of the same two rates (a single 12% rate is refused by the map: QBO works out each rate on
    its own). After mapping, QuickBooks' PST rate becomes 6.998%: on 250.10 the ledger charges 12.51 + 17.51 =
    30.02 and QBO 12.51 + 17.50 = 30.01 (on 250.00 both 30.00). The sync parks it with both figures and reconcile
    says so too."""
    s = sandbox_settings(settings, sandbox)
    firm = create_firm(s, "CA", name="Coast & Harbour Law")
    try:
        demo.ensure_ready(firm)
        gst = queries.get_account_by_code(firm, "2200").id
        single = add_tax_rate(firm, "Flat 12%", "12", tax_account_id=gst)
        combined = next(r for r in queries.list_tax_rates(firm) if r.name == "GST/PST BC (12%)")  # the CA template's
        assert [c.rate_ppm for c in combined.components] == [50000, 70000]
        await connect_and_map(firm, sandbox)
        code = next(o for o in qbo_services.list_options(firm, "tax") if o.name == "GST/PST BC")
        with pytest.raises(ValidationError, match="charges 12% but GST/PST BC charges 5% \\+ 7%"):
            qbo_services.set_mapping(firm, "tax", single.id, code.qbo_id)
        firm.db.execute("UPDATE tax_rates SET active = 0 WHERE id = ?", [single.id])
        assert qbo_services.set_mapping(firm, "tax", combined.id, code.qbo_id).status == "mapped"
        company = sandbox.state.company(sandbox.realm_ids["CA"])
        rate = next(r for r in company.all("TaxRate") if r["Name"] == "PST (BC) Sales")
        with sandbox.state.atomic():
            company.put("TaxRate", dict(rate, RateValue=Decimal("6.998")))
        fee = queries.list_accounts(firm, subtypes=["fee_income"])[0]
        client = add_client(firm, "Salish Sea Charters Ltd").id
        line = dict(description="Charter party review", account_id=fee.id, quantity="1", unit_price="250.10",
                    tax_rate_id=combined.id)
        odd = billing.create_invoice(firm, client_id=client, date="2026-05-04", lines=[line])
        even = billing.create_invoice(firm, client_id=client, date="2026-05-05", lines=[dict(line, unit_price="250.00")])
        assert odd.tax_minor == 3002 and even.tax_minor == 3000

        summary = await sync.run_sync(firm)
        assert summary.pushed == 1 and summary.parked == 1 and not summary.ok
        assert summary.differences_parked == 1 and "1 differ from QuickBooks" in summary.message
        [parked] = sync.parked(firm)
        assert (parked.doc_id, parked.code, parked.kind) == (odd.id, "qbo_differs", "qbo")
        f = parked.fields
        assert (f["ledger_total_minor"], f["qbo_total_minor"], f["ledger_tax_minor"], f["qbo_tax_minor"]) == (
            28012, 28011, 3002, 3001)
        assert f["cause"] == "rate_differs" and sorted(t["percent"] for t in f["qbo_rates"]) == ["5", "6.998"]
        assert "QuickBooks holds 280.11 CAD (tax 30.01), the ledger 280.12 (tax 30.02)" in parked.reason
        assert "correct the document or the maps" not in parked.reason
        assert [o.name for o in sync.fixes(parked)] == ["resend_with_tax", "accept_qbo"]
        [diff] = summary.differences
        assert (diff.doc_type, diff.doc_id, diff.label) == ("invoice", odd.id, f"Invoice {odd.number}")
        assert (diff.ledger_minor, diff.qbo_minor) == (odd.total_minor, odd.total_minor - 1)
        assert summary.as_json()["differences"][0]["qbo_minor"] == 28011

        result = await sync.reconcile(firm)
        assert not result.ok
        [different] = result.different
        assert different["doc_id"] == odd.id and different["fields"] == ["total"]
        assert (different["ledger_total_minor"], different["qbo_total_minor"]) == (28012, 28011)
        assert [(a["ledger_minor"], a["qbo_minor"]) for a in result.ar] == [(56012, 56011)]

        # The same from the command line: the difference is printed and the exit status says so.
        cli_env(monkeypatch, s, sandbox)
        code = await asyncio.to_thread(main, ["reconcile"])
        out = capsys.readouterr().out
        assert code == 1 and f"different (total): invoice {odd.number}" in out
        code = await asyncio.to_thread(main, ["reconcile", "--json"])
        assert code == 1 and json.loads(capsys.readouterr().out)["different"][0]["qbo_total_minor"] == 28011
        third = billing.create_invoice(firm, client_id=client, date="2026-05-06", lines=[line])
        code = await asyncio.to_thread(main, ["sync"])
        out = capsys.readouterr().out
        assert code == 1 and f"total differs: Invoice {third.number}: ledger 28012 vs QuickBooks 28011" in out
        assert f"fix: ledgerlink sync fix invoice {third.id} --resend-with-tax" in out
        # A retry by hand does not make it done: QBO still holds the other figures.
        assert sync.retry(firm, "invoice", odd.id)
        summary = await sync.run_sync(firm)
        assert summary.pushed == 0 and {p.doc_id for p in sync.parked(firm)} == {odd.id, third.id}
    finally:
        firm.close()


async def test_a_rate_changed_in_qbo_after_mapping_parks_and_each_fix_is_offered_where_it_applies(
        settings, sandbox, monkeypatch, capsys):
    """The sandbox's 20% rate becomes 21% after mapping: the invoice parks with both figures and the rate named.
    Re-sent with the ledger's tax, a company that does not take tax overrides (the sandbox outside the US, as
    today) computes its own again: the document parks saying so and offers only recording QBO's tax."""
    from core.ledger.firm import create_firm as _create

    s = sandbox_settings(settings, sandbox)
    firm = _create(s, "UK", name="Wren & Co Solicitors")
    try:
        demo.ensure_ready(firm)
        await connect_and_map(firm, sandbox)
        standard = next(r for r in queries.list_tax_rates(firm) if r.rate_ppm == 200000)
        company = sandbox.state.company(sandbox.realm_ids["UK"])
        for rate in company.all("TaxRate"):
            if Decimal(str(rate.get("RateValue"))) == 20:
                rate["RateValue"] = Decimal(21)
        fee = queries.list_accounts(firm, subtypes=["fee_income"])[0]
        client = add_client(firm, "Bramble Cottage Ltd").id
        inv = billing.create_invoice(firm, client_id=client, date="2026-05-04", lines=[dict(
            description="Lease review", account_id=fee.id, quantity="1", unit_price="100.00",
            tax_rate_id=standard.id)])
        summary = await sync.run_sync(firm)
        assert (summary.pushed, summary.parked, summary.differences_parked) == (0, 1, 1)
        [parked] = sync.parked(firm)
        assert parked.fields["cause"] == "rate_differs" and parked.fields["qbo_tax_minor"] == 2100
        assert "the ledger charges" in parked.reason and "QuickBooks charged 21%" in parked.reason
        assert "holds 121.00 GBP (tax 21.00), the ledger 120.00 (tax 20.00)" in parked.reason

        cli_env(monkeypatch, s, sandbox)
        code = await asyncio.to_thread(main, ["sync", "fix", "invoice", str(inv.id), "--resend-with-tax"])
        assert code == 0 and "goes again with the ledger's tax" in capsys.readouterr().out
        summary = await sync.run_sync(firm)
        [parked] = sync.parked(firm)
        assert parked.fields["cause"] == "override_ignored" and [o.name for o in sync.fixes(parked)] == ["accept_qbo"]
        assert "QuickBooks ignored the tax Ledgerlink sent" in parked.reason
        code = await asyncio.to_thread(main, ["sync", "fix", "invoice", str(inv.id), "--resend-with-tax"])
        assert code != 0 and "does not apply here" in capsys.readouterr().err
    finally:
        firm.close()


def _ledger_can_adjust_tax() -> bool:
    try:
        from core.ledger.adjustments import record_tax_adjustment  # noqa: F401 (wt-money's seam)
    except ImportError:
        return False
    return True


@pytest.mark.skipif(not _ledger_can_adjust_tax(),
                    reason="PENDING wt-money: core.ledger.adjustments.record_tax_adjustment is not merged yet")
async def test_accepting_qbos_tax_records_an_adjustment_and_reconcile_agrees(settings, sandbox, monkeypatch, capsys):
    """QBO's 20% rate became 21% after mapping: --accept-qbo records QBO's 21.00 in the ledger by a dated
    adjustment through the journal; the invoice is done, the next sync parks nothing and reconcile agrees."""
    s = sandbox_settings(settings, sandbox)
    firm = create_firm(s, "UK", name="Wren & Co Solicitors")
    try:
        demo.ensure_ready(firm)
        await connect_and_map(firm, sandbox)
        standard = next(r for r in queries.list_tax_rates(firm) if r.rate_ppm == 200000)
        company = sandbox.state.company(sandbox.realm_ids["UK"])
        for rate in company.all("TaxRate"):
            if Decimal(str(rate.get("RateValue"))) == 20:
                rate["RateValue"] = Decimal(21)
        fee = queries.list_accounts(firm, subtypes=["fee_income"])[0]
        client = add_client(firm, "Bramble Cottage Ltd").id
        inv = billing.create_invoice(firm, client_id=client, date="2026-05-04", lines=[dict(
            description="Lease review", account_id=fee.id, quantity="1", unit_price="100.00",
            tax_rate_id=standard.id)])
        await sync.run_sync(firm)
        [parked] = sync.parked(firm)
        assert parked.doc_id == inv.id and "accept_qbo" in parked.fields["fixes"]
        cli_env(monkeypatch, s, sandbox)
        code = await asyncio.to_thread(main, ["sync", "fix", "invoice", str(inv.id), "--accept-qbo",
                                              "--date", "2026-05-31"])
        assert code == 0, capsys.readouterr()
        assert queries.get_invoice(firm, inv.id).total_minor == 12100
        summary = await sync.run_sync(firm)
        assert summary.counts.parked == 0 and not summary.differences, summary.as_json()
        assert (await sync.reconcile(firm)).ok
    finally:
        firm.close()
