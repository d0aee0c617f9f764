"""The invoice preview: the invoice as the client would see it (text and HTML), with tax per rate, what was paid
or credited and the balance due; client-supplied text neutralised on a terminal and escaped in HTML."""

from __future__ import annotations

import json

import pytest

from core.cli import main
from core.services import ledger, preview
from core.services.context import open_firm


@pytest.fixture
def billed(settings):
    """An AU firm, a client with a hostile name and address, and an invoice of three lines at two tax rates with a
    payment and a credit note applied."""
    firm = ledger.create_firm(settings, "AU", name="Smith & Jones")
    try:
        bank = ledger.add_contact(firm, "First National", "bank")
        gl = ledger.list_accounts(firm, subtypes=["operating_bank"])[0]
        ba = ledger.add_bank_account(firm, name="Operating", kind="operating", bank_contact_id=bank.id,
                                     gl_account_id=gl.id)
        client = ledger.add_client(firm, "Evil <script>alert(1)</script>\x1b[2J Corp", email="ap@evil.example",
                                   address="1 Main St\nSydney NSW 2000")
        matter = ledger.add_matter(firm, client.id, "Lease & dispute", reference="M-1")
        fee = ledger.list_accounts(firm, subtypes=["fee_income"])[0]
        rates = ledger.list_tax_rates(firm, active_only=True)
        gst = next(r for r in rates if r.rate_ppm)
        free = next(r for r in rates if not r.rate_ppm)
        inv = ledger.create_invoice(firm, client_id=client.id, matter_id=matter.id, date="2026-11-02",
                                    due_date="2026-12-02", lines=[
            {"description": "Advice <b>bold</b>", "account_id": fee.id, "tax_rate_id": gst.id, "quantity": "2",
             "unit_price": "150.00"},
            {"description": "Court filing fee", "account_id": fee.id, "tax_rate_id": free.id, "quantity": "1",
             "unit_price": "80.00"},
            {"description": "Drafting the lease and the letters to the landlord about the dispute", "account_id": fee.id, "tax_rate_id": gst.id, "quantity": "1.5",
             "unit_price": "200.00"}])
        ledger.record_payment(firm, client_id=client.id, date="2026-11-10", amount="100.00", bank_account_id=ba.id,
                              allocations=[(inv.id, "100.00")], reference="DEP-7")
        ledger.issue_credit_note(firm, invoice_id=inv.id, date="2026-11-11", amount="50.00")
        yield firm, inv.number, gst, free
    finally:
        firm.close()


def test_preview_has_every_figure_the_client_sees(billed):
    firm, number, gst, free = billed
    p = preview.invoice_preview(firm, number)
    assert [(l.description, l.quantity, l.amount_minor, l.tax_rate) for l in p.lines] == [
        ("Advice <b>bold</b>", "2", 30000, gst.name), ("Court filing fee", "1", 8000, free.name),
        ("Drafting the lease and the letters to the landlord about the dispute", "1.5", 30000, gst.name)]
    assert p.subtotal_minor == 68000 and p.tax_minor == 6000 and p.total_minor == 74000
    assert [(t.net_minor, t.tax_minor) for t in p.taxes] == [(60000, 6000)]  # GST on the two taxed lines
    assert [(s.kind, s.reference, s.amount_minor) for s in p.settlements] == [("payment", "DEP-7", 10000),
                                                                            ("credit", "CR-00001", 5500)]
    assert p.balance_due_minor == 74000 - 10000 - 5500 and p.paid_minor == 15500
    assert p.terms == "Net 30 days" and p.matter == "M-1 Lease & dispute"
    assert p.client_address == ("1 Main St", "Sydney NSW 2000") and p.firm_name == "Smith & Jones"

    text = preview.render_text(p, 78)
    assert all(len(line) <= 78 for line in text.splitlines())
    assert "\x1b" not in text and "\\x1b[2J" in text  # the escape is shown, never sent to the terminal
    for shown in (f"INVOICE {number}", "Date 2026-11-02", "Due 2026-12-02", "Terms: Net 30 days",
                  "Matter: M-1 Lease & dispute", "Advice <b>bold</b>", "Drafting", "1.5", "600.00", "60.00",
                  "740.00", "Payment DEP-7 2026-11-10", "-100.00", "Credit note CR-00001", "-55.00", "585.00"):
        assert shown in text, shown
    body = [line.strip() for line in text.splitlines()]
    first = next(i for i, line in enumerate(body) if line.startswith("Drafting"))
    # a long description wraps under itself, never cut; its figures stay on its first line
    assert " ".join([body[first].split("  ")[0], *body[first + 1: first + 3]]) == \
        "Drafting the lease and the letters to the landlord about the dispute"
    assert "300.00" in body[first] and "GST" in body[first]
    assert text.splitlines()[-1].split() == ["Balance", "due", "AUD", "585.00"]


def test_html_export_escapes_client_text(billed, settings, tmp_path, capsys):
    firm, number, *_ = billed
    out = tmp_path / "inv.html"
    assert main(["--db", str(settings.db), "invoice", "preview", number, "--html", str(out)]) == 0
    assert f"written to {out}" in capsys.readouterr().out
    page = out.read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Advice &lt;b&gt;bold&lt;/b&gt;" in page and "Smith &amp; Jones" in page
    assert "<td class=n>585.00</td>" in page and "Balance due AUD" in page

    assert main(["--db", str(settings.db), "invoice", "preview", number, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)["invoice"]
    assert data["balance_due_minor"] == 58500 and data["paid_minor"] == 15500 and len(data["lines"]) == 3
    assert main(["--db", str(settings.db), "invoice", "preview", number]) == 0
    assert "Balance due AUD" in capsys.readouterr().out
    assert main(["--db", str(settings.db), "invoice", "preview", "INV-99999"]) == 1
    assert "No invoice is numbered 'INV-99999'" in capsys.readouterr().err
    assert main(["--db", str(settings.db), "invoice", "preview", number, "--html", str(tmp_path / "no" / "x.html")]) == 1
    assert "cannot write the file" in capsys.readouterr().err
