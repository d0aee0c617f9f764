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


EVERY_CODE = {
    "map_unusable": {"kind": "gl", "ledger_id": 4, "message": "6000 Bank is mapped to Checking, which is inactive"},
    "sales_unmapped": {"account_id": 1, "account": "4000 Fees"},
    "tax_unmapped": {"tax_rate_id": 2, "tax_rate": "Standard (20%)"},
    "bank_unmapped": {"bank_account_id": 1, "bank": "Office account"},
    "trust_unmapped": {"account_id": 18, "account": "Client Trust Liability"},
    "trust_mixed": {"doc_id": 4, "number": "TR-4", "accounts": "1000 Operating Checking"},
    "zero_rate_unmapped": {},
    "writeoff_no_gl": {"account_id": 9, "account": "6900 Bad debts"},
    "writeoff_no_item": {"account_id": 9, "account": "6900 Bad debts", "qbo_account": "Bad debts"},
    "number_too_long": {"kind": "Invoice", "number": "X" * 25, "max": 21},
    "customer_missing": {"client_id": 3, "client": "Amy's Bird Sanctuary"},
    "us_several_rates": {"kind": "Invoice", "number": "INV-1", "rates": "State, County"},
    "waits_for_invoice": {"what": "The payment", "invoice_id": 1, "invoice": "INV-1"},
    "invoice_parked": {"what": "The payment", "invoice_id": 1, "invoice": "INV-1", "invoice_reason": "Tax rate X ..."},
    "invoice_before_sync_from": {"what": "The payment", "invoice_id": 1, "invoice": "INV-1", "from_date": "2026-01-01"},
    "document_missing": {"doc_type": "invoice", "doc_id": 5, "label": "Invoice"},
    "qbo_refused": {"label": "Invoice INV-1", "fault_code": "6210", "fault_message": "Closed period",
                    "fault_detail": None, "fault_element": None},
    "customer_name_taken": {"name": "Amy", "fault_code": "6240", "fault_message": "Duplicate Name Exists Error",
                            "fault_detail": None, "fault_element": None},
    "customer_refused": {"name": "Amy", "fault_code": "2010", "fault_message": "Bad", "fault_detail": None,
                         "fault_element": None},
    "currency_differs": {"firm_currency": "CAD", "home_currency": "USD", "company": "Sandbox Company_US_1"},
    "qbo_differs": {"doc_type": "invoice", "doc_id": 7, "label": "Invoice INV-7", "currency": "USD",
                    "ledger_total_minor": 256, "qbo_total_minor": 255, "ledger_tax_minor": 16, "qbo_tax_minor": 15,
                    "cause": "rounding", "ledger_rates": [{"rate_id": 1, "name": "State", "percent": "6.25",
                                                           "tax_minor": 16}],
                    "qbo_rates": [{"rate_id": "3", "percent": "6.25", "net_minor": 240, "tax_minor": 15}],
                    "fixes": ["accept_qbo"]},
    "books_closed": {"doc_type": "invoice", "doc_id": 3, "close_date": "2026-03-31",
                     "text": "Invoice INV-3 is dated 2026-03-01, on or before QuickBooks' closing date 2026-03-31"},
    "customer_undecided": {"client_id": 5, "text": "QuickBooks already has a customer named Cool Cars"},
    "answer_mismatch": {"doc_type": "invoice", "doc_id": 4, "qbo_id": "130", "mismatch": "answer_mismatch",
                        "text": "QuickBooks answered Invoice INV-4 with another document"},
    "customer_job_refused": {"matter_id": 3, "name": "M-3 Estate", "fault_code": "6240",
                             "fault_message": "Duplicate Name Exists Error"},
    "payment_spans_matters": {"doc_type": "payment", "doc_id": 9, "label": "payment 9", "matters": [3, 4]},
}


def test_every_code_renders_a_sentence_naming_its_fields_and_survives_storage():
    from core.qbo import reasons

    assert set(EVERY_CODE) == set(reasons._RENDER), "a code without a test case, or a case without a code"
    for code, fields in EVERY_CODE.items():
        reason = Reason(code, fields)
        text = reason.render()
        assert text and "{" not in text, code
        again = Reason.stored(code, reason.fields_json(), text)
        assert again.render() == text and again.fix == reason.fix, code
    differs = Reason("qbo_differs", EVERY_CODE["qbo_differs"])
    assert "QuickBooks holds 2.55 USD (tax 0.15), the ledger 2.56 (tax 0.16)" in differs.render()
    assert "`ledgerlink sync fix invoice 7 --accept-qbo`" in differs.render()
    assert "resend-with-tax" not in differs.render()
    assert Reason("qbo_refused", EVERY_CODE["qbo_refused"]).fix == Where("quickbooks", "Account and settings > Advanced")
