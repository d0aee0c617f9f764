"""The sync-history migration: a firm from the previous release keeps every document, balance and sync record;
what it recorded shows as "before history was kept", and what was parked then starts each document's history."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from core.cli import main
from core.services import history
from core.services.context import open_firm
from core.settings import Settings

LEGACY = Path(__file__).parents[1] / "fixtures" / "firm_schema0.sql"


def _legacy(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(LEGACY.read_text())
    # a document parked by the old release, with its sentence only
    conn.execute("INSERT INTO sync_parked VALUES ('invoice', 1, 1, 'local', 'Map account 4000 first', 'fp', NULL, "
                 "'2026-12-01T09:00:00.000000Z')")
    conn.commit()
    conn.close()
    return path


def test_upgrade_keeps_records_and_balances_and_marks_them_before_history(tmp_path, capsys):
    db = _legacy(tmp_path / "firm.db")
    conn = sqlite3.connect(db)
    records = conn.execute("SELECT * FROM sync_records ORDER BY id").fetchall()
    balances = conn.execute("SELECT account_id, sum(amount_minor), count(*) FROM journal_lines "
                            "GROUP BY account_id ORDER BY account_id").fetchall()
    invoices = conn.execute("SELECT * FROM invoices ORDER BY id").fetchall()
    conn.close()
    assert main(["--db", str(db), "migrate"]) == 0
    capsys.readouterr()

    conn = sqlite3.connect(db)
    after = conn.execute("SELECT * FROM sync_records ORDER BY id").fetchall()
    assert [r[:-1] for r in after] == records and {r[-1] for r in after} == {None}  # actor: not known then
    assert conn.execute("SELECT account_id, sum(amount_minor), count(*) FROM journal_lines "
                        "GROUP BY account_id ORDER BY account_id").fetchall() == balances
    assert [r[: len(invoices[0])] for r in conn.execute("SELECT * FROM invoices ORDER BY id")] == invoices
    assert conn.execute("SELECT doc_type, doc_id, event, code, reason, actor FROM sync_events").fetchall() == [
        ("invoice", 1, "parked", "legacy", "Map account 4000 first", None)]
    conn.close()

    firm = open_firm(Settings(_env_file=None, db=db), readonly=True)
    try:
        rows = history.documents(firm)
        assert len(rows) == len({(r[2], r[3]) for r in records if r[2] != "customer"})
        assert {r.who for r in rows} == {history.BEFORE_HISTORY}
        inv = history.document(firm, *history.find(firm, "INV-00001"))
        assert [(e.what, e.who) for e in inv.entries] == [("parked", history.BEFORE_HISTORY),
                                                          ("pushed", history.BEFORE_HISTORY)]
        assert inv.entries[0].text() == "Map account 4000 first"
        assert inv.entries[1].qbo_id == inv.doc.qbo_id and inv.entries[1].operation == "create"
        assert [r.label for r in history.documents(firm, search="wilson")] and all(
            "Wilson" in r.client for r in history.documents(firm, search="wilson"))
    finally:
        firm.close()

    assert main(["--db", str(db), "sync", "history", "INV-00001", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["label"] == "Invoice INV-00001" and out["entries"][1]["who"] == "before history was kept"
    assert main(["--db", str(db), "sync", "history", "--search", "wilson"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0].split() == ["When", "Document", "Client", "Op", "QBO", "State", "By"]
    assert listed[-1].endswith("documents") and all("Wils" in line for line in listed[1:-1])
    assert all(line.endswith("before history was kept") for line in listed[1:-1])
    assert main(["--db", str(db), "sync", "history", "NOPE-1"]) == 1
    assert "No invoice, credit note or payment is numbered 'NOPE-1'" in capsys.readouterr().err
