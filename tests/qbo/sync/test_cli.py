"""`ledgerlink sync` and `ledgerlink reconcile` from the command line (no QuickBooks needed for these)."""

from __future__ import annotations

import json

from core.cli import main
from core.qbo import store


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_dry_run_prints_what_it_would_send_or_why_it_would_park(demo_firm, settings, capsys):
    db = str(settings.db)
    code, out, _ = run(capsys, "--db", db, "sync", "--dry-run", "--json", "--limit", "5")
    assert code == 0
    previews = json.loads(out)
    assert len(previews) == 5 and previews[0]["operation"] == "create Invoice"
    # nothing is mapped yet: each would be parked, with the map to open
    assert all("open Mapping" in p["problem"] for p in previews)
    assert demo_firm.db.execute("SELECT count(*) FROM sync_records").fetchone()[0] == 0


def test_enable_and_disable_set_the_switch_and_the_sync_from_date(firm, settings, capsys):
    db = str(settings.db)
    code, out, _ = run(capsys, "--db", db, "sync", "enable", "--from", "2026-02-01")
    assert code == 0 and "2026-02-01" in out
    assert store.sync_settings_row(firm.db) == (True, "2026-02-01")
    code, out, _ = run(capsys, "--db", db, "sync", "disable")
    assert code == 0 and store.sync_settings_row(firm.db) == (False, "2026-02-01")


def test_sync_without_a_connection_says_reconnect_and_fails(firm, settings, capsys):
    settings_env = ["--db", str(settings.db)]
    code, out, _ = run(capsys, *settings_env, "sync", "--once", "--json")
    assert code == 1
    summary = json.loads(out)
    assert summary["ok"] is False and summary["stopped"].startswith("Reconnect to QuickBooks")


async def test_parked_documents_are_listed_and_put_back_by_hand(firm, settings, capsys, qbo):
    from core.ledger import billing, queries
    from core.ledger.firm import add_client
    from core.qbo.sync import SyncEngine

    from .conftest import MappedSources

    fee = queries.list_accounts(firm, subtypes=["fee_income"])[0]
    client = add_client(firm, "Parked Client").id
    billing.create_invoice(firm, client_id=client, date="2026-03-01", lines=[dict(
        description="Advice", account_id=fee.id, quantity="1", unit_price="10.00",
        tax_rate_id=queries.list_tax_rates(firm)[0].id)])
    await SyncEngine(firm.db, qbo, MappedSources(firm, unmapped=(fee.id,))).run()
    db = str(settings.db)
    code, out, _ = run(capsys, "--db", db, "sync", "parked", "--json")
    [p] = json.loads(out)
    assert code == 0 and p["kind"] == "local" and "Sales invoice account map" in p["reason"]
    code, out, _ = run(capsys, "--db", db, "sync", "retry", "invoice", str(p["doc_id"]))
    assert code == 0 and out.startswith("1 document")
    assert firm.db.execute("SELECT state FROM sync_queue").fetchone()[0] == "queued"
