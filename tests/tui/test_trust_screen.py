"""The Trust screen (F7): balances by client, matter and account; the move forms; statement import and
matching; the three-way result. Pilot flows wait for the workers; snapshots at 80x24."""

from __future__ import annotations

import pytest

from core.ledger import trust as T
from tui.app import create_app
from tui_helpers import choose, retype, screen_text, settle, tab_to

STATEMENT = "date,description,amount,reference\n2026-01-06,Wire,1000.00,WIRE-1\n2026-01-08,Deposit,500.00,\n"


def trust_firm(settings) -> None:
    """A US firm with two trust accounts, Jane Roe (matter JR-1) holding 1,000 in Trust and Acme 500 in
    Separate Trust, and an open invoice of Jane's."""
    from core.ledger.demo import ensure_ready
    from core.services import ledger as L

    firm = L.create_firm(settings, "US", name="Hartley & Quinn")
    try:
        ensure_ready(firm)
        bank = L.list_contacts(firm, "bank")[0]
        trust = L.list_bank_accounts(firm, "trust")[0]
        separate = L.add_bank_account(firm, name="Separate Trust", kind="trust", bank_contact_id=bank.id,
                                      gl_account_id=L.get_account_by_code(firm, "1110").id)
        jane, acme = L.add_client(firm, "Jane Roe"), L.add_client(firm, "Acme Ltd")
        L.add_matter(firm, jane.id, "Estate of Roe", reference="JR-1")
        T.trust_receipt(firm, client_id=jane.id, amount="1000", date="2026-01-05", bank_account_id=trust.id,
                        reference="WIRE-1")
        T.trust_receipt(firm, client_id=acme.id, amount="500", date="2026-01-06", bank_account_id=trust.id)
        T.trust_receipt(firm, client_id=acme.id, amount="500", date="2026-01-06", bank_account_id=separate.id)
        zero = next(r.id for r in L.list_tax_rates(firm) if r.rate_ppm == 0)
        L.create_invoice(firm, client_id=jane.id, date="2026-02-01", number="INV-7", lines=[dict(
            description="Fees", account_id=L.get_account_by_code(firm, "4000").id, quantity="1",
            unit_price="200.00", tax_rate_id=zero)])
    finally:
        firm.close()


async def open_trust(pilot):
    await settle(pilot)
    await pilot.press("f7")
    await settle(pilot)


async def test_f7_on_a_database_without_a_firm_says_so_instead_of_reading_forever(settings):
    app = create_app(settings, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_trust(pilot)
        text = screen_text(app)
        assert "There is no firm yet: create it on the setup checklist (F2) first." in text
        assert "Reading the trust ledgers" not in text


async def test_f7_shows_balances_and_a_receipt_posts_in_a_worker(settings):
    trust_firm(settings)
    app = create_app(settings, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_trust(pilot)
        assert type(app.screen).__name__ == "TrustScreen"
        text = screen_text(app)
        assert "Jane Roe" in text and "1,000.00" in text and "Separate Trust" in text
        assert "Books = client ledgers (USD): Trust account (First National Bank) 1,500.00; Separate Trust 500.00" in (
            text.replace("\n ", " ")) and "Shown (a: next): Trust account" in text
        await pilot.press("r")
        await settle(pilot)
        await choose(pilot, "field-client", "Jane")
        await retype(pilot, "field-amount", "250")
        await retype(pilot, "field-matter", "JR-1")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert type(app.screen).__name__ == "TrustScreen"
        rows = {(x.client_name, x.matter_reference, x.bank_account_name): x.balance_minor
                for x in app.screen.view.ledgers.ledgers}
        assert rows[("Jane Roe", "JR-1", "Trust account (First National Bank)")] == 25000


async def test_reports_trust_tab_shows_client_money(settings):
    trust_firm(settings)
    app = create_app(settings, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f6", "3")
        await settle(pilot)
        assert type(app.screen).__name__ == "ReportsScreen"
        text = screen_text(app)
        assert "Jane Roe" in text and "1,000.00" in text and "Trust bank" in text


async def test_an_overdraw_is_refused_in_the_form_with_its_reason(settings):
    trust_firm(settings)
    app = create_app(settings, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_trust(pilot)
        await pilot.press("d")
        await settle(pilot)
        await choose(pilot, "field-client", "Jane")
        await retype(pilot, "field-amount", "800")
        await choose(pilot, "field-account", "Separate")
        await retype(pilot, "field-payee", "Court")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert type(app.screen).__name__ == "TrustForm"
        text = screen_text(app)
        assert "Trust overdraw: Jane Roe holds 0.00 USD in trust" in text
        await pilot.press("escape")  # something was typed: the form asks before dropping it
        await settle(pilot)
        assert type(app.screen).__name__ == "ConfirmModal"
        await pilot.press("y")
        await settle(pilot)
        assert type(app.screen).__name__ == "TrustScreen"


async def test_import_match_unmatch_outstanding_and_reconcile(settings, tmp_path):
    trust_firm(settings)
    statement = tmp_path / "jan.csv"
    statement.write_text(STATEMENT)
    app = create_app(settings, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_trust(pilot)
        await pilot.press("2", "i")
        await settle(pilot)
        await retype(pilot, "field-file", str(statement))
        await pilot.press("ctrl+s")
        await settle(pilot)
        screen = app.screen
        assert [x.entry_id is not None for x in screen.view.lines] == [True, True]
        await tab_to(pilot, "trust-lines")
        await pilot.press("u")
        await settle(pilot)
        assert screen.view.lines[0].entry_id is None
        await tab_to(pilot, "trust-items")
        await pilot.press("m")  # line 1 with the first entry (1,000.00): same amount
        await settle(pilot)
        assert screen.view.lines[0].entry_id == screen.view.items[0].entry_id
        await pilot.press("down", "o")  # Acme's 500 stays outstanding: its statement line is unmatched
        await settle(pilot)
        assert screen.view.items[1].marked_outstanding and screen.view.lines[1].entry_id is None
        await pilot.press("3", "c")
        await settle(pilot)
        await retype(pilot, "field-as_of", "2026-01-31")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not screen.result.ok and not screen.result.saved_id
        text = screen_text(app)
        assert "DOES NOT BALANCE" in text and "jan.csv row 3" in text
        await pilot.press("2")
        await tab_to(pilot, "trust-lines")
        await pilot.press("down")
        await tab_to(pilot, "trust-items")
        await pilot.press("m")
        await settle(pilot)
        assert screen.view.lines[1].entry_id == screen.view.items[1].entry_id
        await pilot.press("3", "c")
        await settle(pilot)
        await retype(pilot, "field-as_of", "2026-01-31")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert screen.result.ok and screen.result.saved_id
        text = screen_text(app)
        assert "RECONCILED" in text and "(1) bank 1,500.00  (2) books 1,500.00  (3) clients 1,500.00" in text


def form_error(app) -> str:
    """The refusal a form shows in place, as one line."""
    return " ".join(str(app.screen.query_one("#form-error").render()).split())


async def test_v_on_a_trust_transaction_reverses_it_after_naming_it_and_asking_why(settings):
    trust_firm(settings)
    app = create_app(settings, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_trust(pilot)
        await pilot.press("4")
        await settle(pilot)
        screen = app.screen
        assert [(t.kind, t.amount_minor) for t in screen.view.transactions] == [("receipt", 100000), ("receipt", 50000)]
        assert "Reverse" in screen_text(app)
        await pilot.press("v")  # Jane's 1,000.00 receipt, the first row
        await settle(pilot)
        assert type(app.screen).__name__ == "TrustForm"
        text = screen_text(app).replace("\n", " ")
        assert "Reverse trust receipt 1" in text and "Jane Roe, 1,000.00 USD" in text and "WIRE-1" in text
        await pilot.press("ctrl+s")  # no reason: refused in place
        await settle(pilot)
        assert type(app.screen).__name__ == "TrustForm"
        assert "reason: say why the trust transaction is reversed" in form_error(app)
        await retype(pilot, "field-reason", "Wired to the wrong firm")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert type(app.screen).__name__ == "TrustScreen"
        first = screen.view.transactions[0]
        assert (first.status, first.reversal_reason) == ("reversed", "Wired to the wrong firm")
        assert not any(x.client_name == "Jane Roe" for x in screen.view.ledgers.ledgers)
        assert "reversed 2026-11-16" in screen_text(app)
        await pilot.press("v")  # already reversed: said, no form
        await settle(pilot)
        assert type(app.screen).__name__ == "TrustScreen"


async def test_a_reversal_that_would_overdraw_or_falls_in_a_reconciled_period_is_refused_in_the_form(settings,
                                                                                                      tmp_path):
    trust_firm(settings)
    from core.ledger import trust_reconcile, trust_statement
    from core.services import ledger as L
    from core.services.context import open_firm

    statement = tmp_path / "jan.csv"
    statement.write_text(STATEMENT)
    firm = open_firm(settings)
    try:
        trust = L.list_bank_accounts(firm, "trust")[0]
        trust_statement.import_statement(firm, trust.id, statement)
        assert trust_reconcile.reconcile(firm, trust.id, "2026-01-31").saved_id
        acme = next(c.id for c in L.list_clients(firm) if c.name == "Acme Ltd")
        T.trust_disbursement(firm, client_id=acme, amount="450", date="2026-02-10", bank_account_id=trust.id,
                             payee="Court")
    finally:
        firm.close()
    app = create_app(settings, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_trust(pilot)
        await pilot.press("4", "down", "v")  # Acme's 500.00 receipt: 450.00 of it is paid out already
        await settle(pilot)
        await retype(pilot, "field-reason", "Bounced")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert type(app.screen).__name__ == "TrustForm"
        text = form_error(app)
        assert "Trust overdraw: Acme Ltd holds 50.00 USD in trust; 500.00 USD cannot be taken back" in text
        await pilot.press("escape", "y")
        await settle(pilot)
        await pilot.press("up", "v")  # Jane's receipt, dated into the reconciled January
        await settle(pilot)
        await retype(pilot, "field-reason", "Wrong client")
        await retype(pilot, "field-date", "2026-01-20")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert type(app.screen).__name__ == "TrustForm"
        text = form_error(app)
        assert "2026-01-20 is in a reconciled period" in text and "reconciled to 2026-01-31" in text
        assert app.screen.query_one("#form-error").has_class("-shown")


SNAPSHOTS = {"balances": [], "matching": ["2"], "receive_form": ["r"], "reconciled": ["3", "c", "ctrl+s"],
             "transfer_form": ["t"]}


@pytest.mark.parametrize("screen", sorted(SNAPSHOTS))
def test_trust_snapshots(snap_compare, settings, screen, tmp_path):
    trust_firm(settings)
    if screen in ("matching", "reconciled"):
        from core.ledger import trust_statement
        from core.services.context import open_firm

        (tmp_path / "jan.csv").write_text(STATEMENT)
        firm = open_firm(settings)
        try:
            from core.services import ledger as L

            trust_statement.import_statement(firm, L.list_bank_accounts(firm, "trust")[0].id, tmp_path / "jan.csv")
        finally:
            firm.close()

    async def navigate(pilot):
        await open_trust(pilot)
        for key in SNAPSHOTS[screen]:
            await pilot.press(key)
            await settle(pilot)

    assert snap_compare(create_app(settings, still=True), terminal_size=(80, 24), run_before=navigate)
