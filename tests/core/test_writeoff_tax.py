"""Write-offs reverse the tax of the invoice lines they write off (bad-debt relief): the gross amount is shared
over the invoice's rates by what is still open per rate, split into net (to bad debts) and tax (back off each
component's liability account), so the VAT/GST/sales tax the ledger owes is the tax of what was collected."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from core.errors import ValidationError
from core.ledger.demo import ensure_ready
from core.services import ledger as L
from core.settings import Settings


def _firm(tmp_path, cc: str):
    firm = L.create_firm(Settings(_env_file=None, db=tmp_path / f"{cc}.db"), cc, name=f"{cc} Write-off LLP")
    ensure_ready(firm)
    return firm


class Books:
    """A firm of one country with ids by name."""

    def __init__(self, firm):
        self.firm = firm
        self.rates = {r.name: r for r in L.list_tax_rates(firm)}
        self.fee = L.list_accounts(firm, subtypes=["fee_income"], active_only=True)[0].id
        self.bad_debt = L.list_accounts(firm, subtypes=["bad_debt"])[0].id
        self.ar = L.list_accounts(firm, subtypes=["receivable"])[0].id
        self.tax_accounts = {a.id: a.name for a in L.list_accounts(firm, subtypes=["sales_tax"])}
        self.bank = L.list_bank_accounts(firm, "operating")[0].id
        self.client = L.add_client(firm, "Ashdown Holdings Ltd").id

    def invoice(self, *lines: tuple[str, str, str]):
        """Lines of (rate name, quantity, unit price)."""
        return L.create_invoice(self.firm, client_id=self.client, date="2026-03-02", lines=[
            dict(description=f"Work {n}", account_id=self.fee, quantity=q, unit_price=p,
                 tax_rate_id=self.rates[rate].id) for n, (rate, q, p) in enumerate(lines, 1)])

    def write_off(self, invoice, amount: str, date: str = "2026-06-30"):
        return L.issue_credit_note(self.firm, invoice_id=invoice.id, kind="writeoff", amount=amount, date=date)

    def balance(self, account_id: int) -> int:
        """Debits minus credits of one account, over every posting."""
        return self.firm.db.execute("SELECT coalesce(sum(amount_minor), 0) FROM journal_lines WHERE account_id = ?",
                                    [account_id]).fetchone()[0]

    def tax_owed(self) -> dict[str, int]:
        """What each sales-tax account is owed (its credit balance), by name."""
        return {name: -self.balance(acc) for acc, name in self.tax_accounts.items()}

    def posting(self, note) -> list[tuple[int, int]]:
        """A credit note's posting, summed per account."""
        return sorted(self.firm.db.execute(
            "SELECT l.account_id, sum(l.amount_minor) FROM journal_lines l JOIN journal_entries e ON e.id = l.entry_id "
            "WHERE e.doc_type = 'credit_note' AND e.doc_id = ? AND e.doc_version = ? AND e.kind = 'post' "
            "GROUP BY l.account_id", [note.id, note.version]).fetchall())


@pytest.fixture
def uk(tmp_path, monkeypatch):
    monkeypatch.setenv("LEDGERLINK_USER", "alice")
    firm = _firm(tmp_path, "UK")
    yield Books(firm)
    firm.close()


@pytest.fixture
def us(tmp_path, monkeypatch):
    monkeypatch.setenv("LEDGERLINK_USER", "alice")
    firm = _firm(tmp_path, "US")
    yield Books(firm)
    firm.close()


@pytest.fixture
def ca(tmp_path, monkeypatch):
    monkeypatch.setenv("LEDGERLINK_USER", "alice")
    firm = _firm(tmp_path, "CA")
    yield Books(firm)
    firm.close()


def _per_rate(note) -> dict[int | None, tuple[int, int]]:
    out: dict[int | None, tuple[int, int]] = {}
    for ln in note.lines:
        net, tax = out.get(ln.tax_rate_id, (0, 0))
        out[ln.tax_rate_id] = (net + ln.amount_minor, tax + ln.tax_minor)
    return out


def test_uk_full_write_off_of_an_untouched_invoice_reverses_its_net_and_vat_per_rate(uk):
    inv = uk.invoice(("Standard (20%)", "1", "0.05"), ("Standard (20%)", "3", "33.33"), ("Reduced (5%)", "2", "12.49"),
                     ("Zero-rated (0%)", "1", "10.00"))
    wo = uk.write_off(inv, str(inv.total_minor / 100))
    assert wo.total_minor == inv.total_minor and wo.tax_minor == inv.tax_minor
    per_invoice_rate: dict[int | None, tuple[int, int]] = {}
    for ln in inv.lines:
        net, tax = per_invoice_rate.get(ln.tax_rate_id, (0, 0))
        per_invoice_rate[ln.tax_rate_id] = (net + ln.amount_minor, tax + ln.tax_minor)
    assert _per_rate(wo) == per_invoice_rate
    assert uk.tax_owed() == {"VAT Control": 0}
    assert L.get_invoice(uk.firm, inv.id).open_balance_minor == 0
    # Cr receivable gross; Dr bad debts net; Dr VAT the tax
    assert uk.posting(wo) == sorted([(uk.ar, -inv.total_minor), (uk.bad_debt, inv.subtotal_minor),
                                     (list(uk.tax_accounts)[0], inv.tax_minor)])


def test_uk_vat_owed_after_a_write_off_is_the_vat_of_what_was_collected(uk):
    inv = uk.invoice(("Standard (20%)", "1", "100.00"), ("Reduced (5%)", "1", "200.00"))  # 120.00 + 210.00
    L.record_payment(uk.firm, client_id=uk.client, date="2026-04-01", amount="165.00", bank_account_id=uk.bank)
    wo = uk.write_off(inv, "165.00")  # the other half, unpaid
    assert wo.total_minor == 16500
    assert _per_rate(wo) == {uk.rates["Standard (20%)"].id: (5000, 1000), uk.rates["Reduced (5%)"].id: (10000, 500)}
    # 165.00 collected is half of each rate: 10.00 + 5.00 of VAT
    assert uk.tax_owed() == {"VAT Control": 1500}
    assert uk.balance(uk.bad_debt) == 15000
    assert L.get_invoice(uk.firm, inv.id).open_balance_minor == 0


def test_a_partial_write_off_where_rounding_skips_the_share_keeps_each_rate_exact(uk):
    inv = uk.invoice(("Standard (20%)", "1", "10.00"))
    # 0.03 gross at 20%: 0.02 + 0.00 tax is 0.02 and 0.03 + 0.01 is 0.04; a second line of 0.01 (no VAT) makes 0.03
    wo = uk.write_off(inv, "0.03")
    assert wo.total_minor == 3
    assert [(ln.tax_rate_id, ln.amount_minor, ln.tax_minor) for ln in wo.lines] == [
        (uk.rates["Standard (20%)"].id, 2, 0), (uk.rates["Standard (20%)"].id, 1, 0)]
    assert L.get_invoice(uk.firm, inv.id).open_balance_minor == inv.total_minor - 3


def test_a_zero_rated_invoice_is_written_off_at_zero_rate(uk):
    inv = uk.invoice(("Zero-rated (0%)", "1", "250.00"))
    wo = uk.write_off(inv, "100.00")
    assert [(ln.tax_rate_id, ln.amount_minor, ln.tax_minor) for ln in wo.lines] == [
        (uk.rates["Zero-rated (0%)"].id, 10000, 0)]
    assert uk.posting(wo) == sorted([(uk.ar, -10000), (uk.bad_debt, 10000)])


def test_us_write_off_reverses_sales_tax_on_the_taxable_subtotal(us):
    state, zero = us.rates["Sample State Sales Tax (6.25%)"], us.rates["No Sales Tax (0%)"]
    inv = us.invoice((state.name, "1", "1.20"), (state.name, "1", "1.20"), (zero.name, "1", "5.00"))
    assert inv.tax_minor == 15  # 2.40 x 6.25%, once on the subtotal
    wo = us.write_off(inv, str(inv.total_minor / 100))
    assert _per_rate(wo) == {state.id: (240, 15), zero.id: (500, 0)}
    assert [ln.tax_rate_id for ln in wo.lines] == [state.id, zero.id]  # one line per rate: QBO sums TAX lines
    assert us.tax_owed() == {"Sales Tax Payable": 0}


def test_us_partial_write_off_after_a_part_payment_owes_the_tax_of_what_was_paid(us):
    state = us.rates["Sample State Sales Tax (6.25%)"]
    inv = us.invoice((state.name, "4", "100.00"))  # 400.00 + 25.00
    L.record_payment(us.firm, client_id=us.client, date="2026-04-01", amount="170.00", bank_account_id=us.bank)
    wo = us.write_off(inv, "255.00")
    assert _per_rate(wo) == {state.id: (24000, 1500)}
    assert us.tax_owed() == {"Sales Tax Payable": 1000}  # 170.00 is 160.00 of sales and 10.00 of tax
    # a share the rate cannot reach exactly (1.00 gross: 0.94 + 0.06 is 1.00; try 0.17: 0.16 + 0.01 = 0.17)
    inv2 = us.invoice((state.name, "1", "100.00"))
    wo2 = us.write_off(inv2, "0.50")  # 0.47 + 0.03 = 0.50
    assert wo2.total_minor == 50 and _per_rate(wo2)[state.id] == (47, 3)


def test_us_rounding_left_over_goes_untaxed_and_the_total_stays_exact(us):
    state = us.rates["Sample State Sales Tax (6.25%)"]
    inv = us.invoice((state.name, "1", "100.00"))
    # 0.17 gross: 0.16 + 0.01 = 0.17 exact; 0.09: 0.08 + 0.01 (0.005 rounds up) = 0.09; 0.08: 0.08 + 0.01 = 0.09 too
    # much and 0.07 + 0.00 = 0.07, so 0.08 is 0.07 taxed and 0.01 untaxed
    wo = us.write_off(inv, "0.08")
    assert wo.total_minor == 8
    assert _per_rate(wo) == {state.id: (7, 0), None: (1, 0)}


def test_ca_combined_rate_write_off_debits_each_component_account(ca):
    bc = ca.rates["GST/PST BC (12%)"]
    inv = ca.invoice((bc.name, "1", "1250.05"))  # GST 62.50 + PST 87.50 = 150.00
    assert inv.tax_minor == 15000
    owed = ca.tax_owed()
    assert owed["GST/HST Payable"] == 6250 and owed["PST Payable"] == 8750
    L.record_payment(ca.firm, client_id=ca.client, date="2026-04-01", amount="700.00", bank_account_id=ca.bank)
    wo = ca.write_off(inv, "700.05")  # the rest
    gst, pst = bc.components
    net, tax = _per_rate(wo)[bc.id]
    assert net + tax == 70005
    after = ca.tax_owed()
    # each component reversed by its own rounding of the written-off net
    assert 6250 - after["GST/HST Payable"] == (net * 5 + 50) // 100
    assert 8750 - after["PST Payable"] == (net * 7 + 50) // 100
    assert after["GST/HST Payable"] + after["PST Payable"] == 15000 - tax
    assert sum(after.values()) == after["GST/HST Payable"] + after["PST Payable"]


def test_ca_write_off_over_several_rates_after_a_credit_note(ca):
    bc, qc, zero = ca.rates["GST/PST BC (12%)"], ca.rates["GST/QST QC (14.975%)"], ca.rates["Zero-rated (0%)"]
    inv = ca.invoice((bc.name, "1", "500.00"), (qc.name, "1", "300.00"), (zero.name, "1", "40.00"))
    L.issue_credit_note(ca.firm, invoice_id=inv.id, date="2026-03-10",
                        lines=[dict(description="Discount", account_id=ca.fee, amount="100.00", tax_rate_id=bc.id)])
    open_ = L.get_invoice(ca.firm, inv.id).open_balance_minor
    wo = ca.write_off(inv, str(open_ / 100))
    assert wo.total_minor == open_
    per = _per_rate(wo)
    # BC: 560.00 - 112.00 = 448.00 open, all of it: 400.00 + 48.00; QC untouched: exactly the invoice's
    assert per[bc.id] == (40000, 4800)
    assert per[qc.id] == (30000, 1500 + 2993)
    assert per[zero.id] == (4000, 0)
    assert ca.tax_owed() == {"GST/HST Payable": 0, "PST Payable": 0, "PST Payable (MB)": 0, "PST Payable (SK)": 0,
                             "QST Payable": 0}


def test_editing_a_write_off_reverses_it_and_splits_the_new_amount(uk):
    inv = uk.invoice(("Standard (20%)", "1", "100.00"), ("Zero-rated (0%)", "1", "30.00"))  # 150.00
    wo = uk.write_off(inv, "75.00")
    first = uk.posting(wo)
    assert _per_rate(wo) == {uk.rates["Standard (20%)"].id: (5000, 1000), uk.rates["Zero-rated (0%)"].id: (1500, 0)}
    edited = L.edit_credit_note(uk.firm, wo.id, amount="150.00")
    assert edited.version == 2 and edited.total_minor == 15000
    assert _per_rate(edited) == {uk.rates["Standard (20%)"].id: (10000, 2000),
                                 uk.rates["Zero-rated (0%)"].id: (3000, 0)}
    rows = uk.firm.db.execute(
        "SELECT e.kind, e.doc_version, l.account_id, l.amount_minor FROM journal_lines l "
        "JOIN journal_entries e ON e.id = l.entry_id WHERE e.doc_type = 'credit_note' AND e.doc_id = ? "
        "ORDER BY l.id", [wo.id]).fetchall()
    def summed(pairs) -> list[tuple[int, int]]:
        out: dict[int, int] = {}
        for account, amount in pairs:
            out[account] = out.get(account, 0) + amount
        return sorted(out.items())

    assert summed((a, m) for k, v, a, m in rows if k == "post" and v == 1) == first  # never rewritten
    assert summed((a, -m) for k, v, a, m in rows if k == "reversal") == first
    assert uk.tax_owed() == {"VAT Control": 0}
    moved = L.edit_credit_note(uk.firm, wo.id, date="2026-07-01")  # a date only: the lines stay as they are
    assert [(ln.tax_rate_id, ln.amount_minor, ln.tax_minor) for ln in moved.lines] == [
        (ln.tax_rate_id, ln.amount_minor, ln.tax_minor) for ln in edited.lines]
    L.delete_credit_note(uk.firm, wo.id)
    assert uk.tax_owed() == {"VAT Control": 2000}
    assert uk.balance(uk.bad_debt) == 0
    assert L.get_invoice(uk.firm, inv.id).open_balance_minor == 15000


def test_a_write_off_booked_before_write_offs_carried_tax_keeps_its_one_line_until_its_amount_changes(
        tmp_path, monkeypatch):
    """A firm made by the release before (tests/fixtures/firm_schema0.sql): its write-offs are one untaxed line,
    the gross to bad debts. The upgrade leaves them so (history is never rewritten); a date edit keeps the line;
    a new amount is split over the invoice's rates like any new write-off."""
    import sqlite3

    from core.cli import main
    from core.services.context import open_firm

    db = tmp_path / "firm.db"
    conn = sqlite3.connect(db)
    conn.executescript((Path(__file__).parents[1] / "fixtures" / "firm_schema0.sql").read_text())
    conn.close()
    assert main(["--db", str(db), "migrate"]) == 0
    monkeypatch.setenv("LEDGERLINK_USER", "root")
    firm = open_firm(Settings(_env_file=None, db=db))
    try:
        books = Books(firm)
        olds = [n for n in L.list_credit_notes(firm, status="posted") if n.kind == "writeoff"]
        assert olds and all([(ln.tax_rate_id, ln.tax_minor) for ln in n.lines] == [(None, 0)] for n in olds)
        old = next(n for n in olds if L.get_invoice(firm, n.invoice_id).tax_minor > 0)
        owed = books.tax_owed()
        moved = L.edit_credit_note(firm, old.id, date="2026-09-09")
        assert [(ln.tax_rate_id, ln.amount_minor, ln.tax_minor) for ln in moved.lines] == [
            (None, old.total_minor, 0)]
        assert books.tax_owed() == owed
        inv = L.get_invoice(firm, old.invoice_id)
        resplit = L.edit_credit_note(firm, old.id, amount=str(Decimal(old.total_minor) / 100))
        assert resplit.total_minor == old.total_minor and resplit.tax_minor > 0
        assert {ln.tax_rate_id for ln in resplit.lines} <= {ln.tax_rate_id for ln in inv.lines}
        assert sum(books.tax_owed().values()) == sum(owed.values()) - resplit.tax_minor
        trial = L.trial_balance(firm)
        assert trial.total_debit_minor == trial.total_credit_minor
    finally:
        firm.close()


def test_bad_write_offs_are_refused_by_name_with_nothing_written(uk):
    inv = uk.invoice(("Standard (20%)", "1", "100.00"))
    before = uk.firm.db.execute("SELECT count(*) FROM journal_lines").fetchone()[0]
    with pytest.raises(ValidationError, match="open balance: invoice .* has 120.00 GBP open; a write-off of "
                                              "120.01 GBP is not allowed"):
        uk.write_off(inv, "120.01")
    for amount, message in (("0", "amount must be more than zero"), ("-5", "amount"), ("12.345", "amount")):
        with pytest.raises(ValidationError, match=message):
            uk.write_off(inv, amount)
    assert uk.firm.db.execute("SELECT count(*) FROM journal_lines").fetchone()[0] == before
    assert L.list_credit_notes(uk.firm, invoice_id=inv.id) == []
