"""A firm database restored from a backup: sync, copy the database aside, post more, sync, restore the copy,
post new documents, sync. Every new document reaches QuickBooks as itself (none is linked to an older one), and
`status` says the database looks restored once reconcile has read what QuickBooks holds."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from core.cli import main
from core.ledger import billing, queries
from core.ledger.firm import add_client
from core.services import sync
from core.services.context import open_firm

from .sandboxed import fee_line, small_firm
from .test_sandbox_sync import qbo_objects


def _backup(firm, to: Path) -> None:
    dst = sqlite3.connect(to)
    firm.db.conn.backup(dst)
    dst.close()


def _restore(settings, copy: Path) -> None:
    db = Path(settings.db)
    for suffix in ("-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    db.write_bytes(copy.read_bytes())


def _post(firm, client: int, prices: list[str]) -> list:
    return [billing.create_invoice(firm, client_id=client, date="2026-10-01", lines=[fee_line(firm, p)])
            for p in prices]


async def test_new_documents_after_a_restore_reach_qbo_as_themselves(settings, sandbox, tmp_path, capsys):
    firm = await small_firm(settings, sandbox)
    s = firm.settings
    client = add_client(firm, "Restored Holdings Ltd").id
    try:
        _post(firm, client, ["100.00", "110.00"])
        assert (await sync.run_sync(firm)).ok
        _backup(firm, tmp_path / "backup.db")
        lost = _post(firm, client, ["200.00", "210.00", "220.00"])
        assert (await sync.run_sync(firm)).ok
        lost_qbo = dict(firm.db.execute("SELECT doc_id, qbo_id FROM sync_links WHERE doc_type = 'invoice'"))
        lost_ids = {lost_qbo[i.id] for i in lost}
    finally:
        firm.close()

    _restore(s, tmp_path / "backup.db")
    firm = open_firm(s)
    try:
        new = _post(firm, client, ["300.00", "310.00", "320.00"])
        assert [i.id for i in new] == [i.id for i in lost]  # ids (and numbers) roll back with the restore
        summary = await sync.run_sync(firm)
        assert summary.pushed == 3 and summary.parked == 0, [p.reason for p in sync.parked(firm)]
        links = dict(firm.db.execute("SELECT doc_id, qbo_id FROM sync_links WHERE doc_type = 'invoice'"))
        by_id = {o["Id"]: o for o in qbo_objects(sandbox, firm, "Invoice")}
        lost_numbers = {i.number for i in lost}
        for inv in new:
            qbo = by_id[links[inv.id]]
            assert links[inv.id] not in lost_ids, f"{inv.number} was linked to an older QBO invoice"
            now = queries.get_invoice(firm, inv.id)
            # the restore handed out numbers QuickBooks holds: the new invoice took the next free one
            assert qbo["DocNumber"] == now.number and now.number not in lost_numbers
            assert sum(int(round(float(str(l["Amount"])) * 100)) for l in qbo["Line"]
                       if "SalesItemLineDetail" in l) == inv.total_minor
        assert len(by_id) == 2 + 3 + 3
        renumbered = [a.detail for a in queries.list_audit(firm) if a.action == "renumber_invoice"]
        assert len(renumbered) == 3 and all("restored from a backup" in d for d in renumbered)

        await sync.reconcile(firm)
    finally:
        firm.close()
    assert main(["--db", str(s.db), "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["restore"] and status["restore"]["suspected"]
    assert {e["kind"] for e in status["restore"]["examples"]} >= {"unlinked_marker"}
