"""A total difference between the ledger and QBO, produced by the sandbox over HTTP, is shown to the user."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

import pytest

from core.errors import ValidationError

from core.cli import main
from core.ledger import billing, demo, queries
from core.ledger.firm import add_client, add_tax_rate, create_firm
from core.services import qbo as qbo_services
from core.services import sync

from .sandboxed import cli_env, connect_and_map, sandbox_settings


async def test_a_penny_of_tax_rounding_is_reported(settings, sandbox, monkeypatch, capsys):
    """A BC firm charges GST and PST as a ledger rate of two components (5% + 7%), mapped to QuickBooks'
    'GST/PST BC' code of the same two rates (a single 12% rate is refused by the map: QBO rounds each rate on its
    own). After mapping, QuickBooks' PST rate becomes 6.998%: on 250.10 the ledger charges 12.51 + 17.51 = 30.02
    and QBO 12.51 + 17.50 = 30.01 (on 250.00 both 30.00). The sync and reconcile both say so; nothing is hidden."""
    s = sandbox_settings(settings, sandbox)
    firm = create_firm(s, "CA", name="Coast & Harbour Law")
    try:
        demo.ensure_ready(firm)
        gst, pst = (queries.get_account_by_code(firm, c).id for c in ("2200", "2210"))
        single = add_tax_rate(firm, "Flat 12%", "12")
        combined = add_tax_rate(firm, "GST + PST BC (12%)", "12", components=[("GST", "5", gst), ("PST", "7", pst)])
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
        assert summary.pushed == 2 and summary.parked == 0 and not summary.ok
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
    finally:
        firm.close()
