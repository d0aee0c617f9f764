"""Park reasons are values: a code, the fields it names and where it is fixed; the sentence is rendered from
them, the TUI and the CLI read the fields, and a firm parked before codes keeps its sentence as 'legacy'."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from core.cli import main
from core.qbo.reasons import Reason, Where
from core.services.context import open_firm
from core.services.sync import parked
from core.settings import Settings

from .conftest import MappedSources
from .test_engine import engine, one_invoice

LEGACY = Path(__file__).parents[2] / "fixtures" / "firm_schema0.sql"


async def test_an_unmapped_account_parks_with_its_code_account_and_mapping_tab(firm, qbo):
    inv, fee = one_invoice(firm, "300.00")
    await engine(firm, qbo, sources=MappedSources(firm, unmapped=(fee.id,))).run()
    [p] = parked(firm)
    assert p.code == "sales_unmapped" and p.fields["account_id"] == fee.id
    assert p.fix == Where("mapping", "sales", "ledgerlink map set sales")
    assert p.reason == Reason("sales_unmapped", p.fields).render()
    assert p.reason.endswith("open Mapping > Sales invoice account map")
    stored = firm.db.execute("SELECT code, fields FROM sync_parked WHERE doc_id = ?", [inv.id]).fetchone()
    assert stored[0] == "sales_unmapped" and json.loads(stored[1])["account"] == f"{fee.code} {fee.name}"


async def test_a_qbo_refusal_keeps_the_fault_as_fields_and_names_where_to_fix(firm, qbo):
    qbo.add_customer("Amy's Bird Sanctuary")
    number = one_invoice(firm)[0].number
    qbo._do("create", "Invoice", {"DocNumber": number, "Line": []})  # the number is taken in QBO
    await engine(firm, qbo).run()
    [p] = parked(firm)
    assert p.code == "qbo_refused" and p.fields["fault_code"] == "6140" and p.fix == Where("billing")
    assert "already used by another document in QuickBooks" in p.reason


async def test_a_payment_waiting_for_a_parked_invoice_names_the_invoice_and_its_reason(firm, qbo):
    from core.ledger import billing, queries

    inv, fee = one_invoice(firm, "300.00")
    bank = queries.list_bank_accounts(firm)[0]
    billing.record_payment(firm, client_id=inv.client_id, date="2026-03-05", amount="10.00",
                           bank_account_id=bank.id, allocations=[(inv.id, "10.00")])
    await engine(firm, qbo, sources=MappedSources(firm, unmapped=(fee.id,))).run()
    by_type = {p.doc_type: p for p in parked(firm)}
    pay = by_type["payment"]
    assert pay.code == "invoice_parked" and pay.fields["invoice_id"] == inv.id
    assert by_type["invoice"].reason in pay.reason


def test_cli_lists_parked_documents_with_code_fields_and_fix(settings, firm, capsys):
    from core.qbo import sync_store as S

    inv, fee = one_invoice(firm, "300.00")
    row = S.get_row(firm.db, "invoice", inv.id)
    with firm.db.atomic():
        S.park(firm.db, row, Reason("tax_unmapped", {"tax_rate_id": 3, "tax_rate": "Standard 20%"}), "local", "fp")
    assert main(["--db", str(settings.db), "sync", "parked", "--json"]) == 0
    [p] = json.loads(capsys.readouterr().out)
    assert p["code"] == "tax_unmapped" and p["fields"] == {"tax_rate_id": 3, "tax_rate": "Standard 20%"}
    assert p["fix"]["screen"] == "mapping" and p["fix"]["tab"] == "tax"
    assert main(["--db", str(settings.db), "sync", "parked"]) == 0
    out = capsys.readouterr().out
    assert "Tax rate Standard 20% is not mapped" in out and "`ledgerlink map options tax`" in out


def test_a_firm_parked_before_codes_keeps_its_sentences_as_legacy(tmp_path):
    db = tmp_path / "firm.db"
    conn = sqlite3.connect(db)
    conn.executescript(LEGACY.read_text())
    doc = conn.execute("SELECT doc_type, doc_id, version FROM sync_queue ORDER BY doc_id LIMIT 1").fetchone()
    text = "Account 4000 Fees is not mapped to a Product/Service: open Mapping › Sales invoice account map"
    conn.execute("UPDATE sync_queue SET state = 'parked', reason = ? WHERE doc_type = ? AND doc_id = ?",
                 [text, doc[0], doc[1]])
    conn.execute("INSERT INTO sync_parked (doc_type, doc_id, version, kind, reason, fingerprint, parked_at) "
                 "VALUES (?,?,?,'local',?,'x','2026-01-01T00:00:00Z')", [*doc, text])
    links_before = conn.execute("SELECT doc_type, doc_id, qbo_id, qbo_total_minor FROM sync_links").fetchall()
    conn.commit()
    conn.close()
    assert main(["--db", str(db), "migrate"]) == 0
    firm = open_firm(Settings(_env_file=None, db=db), readonly=True)
    try:
        [p] = parked(firm)
        assert (p.code, p.fields, p.reason, p.fix) == ("legacy", {}, text, None)
        links = firm.db.execute("SELECT doc_type, doc_id, qbo_id, qbo_total_minor, qbo_tax_minor, "
                                "qbo_balance_minor FROM sync_links").fetchall()
    finally:
        firm.close()
    assert [tuple(r[:4]) for r in links] == links_before and links
    assert all(r[4] is None and r[5] is None for r in links)  # QBO's figures: known from the next write
