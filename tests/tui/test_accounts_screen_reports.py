"""Reports after the chart changed: the AR aging shows each client's credit on account (an overpayment) in its own
column so the total is the receivable balance; an inactive account still shows, dimmed, in the trial balance."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from core.services import accounts, ledger
from core.services.context import open_firm
from tui.app import create_app
from tui_helpers import ready_firm, settle


def books(settings) -> tuple[int, int]:
    """Two clients: one overpaid a 100.00 invoice by 50.00, one owes 80.00. Returns (fee account, AR account)."""
    ready_firm(settings)
    firm = open_firm(settings)
    try:
        fee = ledger.list_accounts(firm, subtypes=["fee_income"], active_only=True)[0].id
        zero = next(r.id for r in ledger.list_tax_rates(firm, active_only=True) if r.rate_ppm == 0)
        bank = ledger.list_bank_accounts(firm, "operating")[0].id
        ar = ledger.list_accounts(firm, subtypes=["receivable"])[0].id
        for name, price in (("Acme Pty", "100.00"), ("Bolt Ltd", "80.00")):
            client = ledger.add_client(firm, name)
            ledger.create_invoice(firm, client_id=client.id, date="2026-11-02", lines=[dict(
                description="Advice", account_id=fee, quantity="1", unit_price=price, tax_rate_id=zero)])
        acme = next(c.id for c in ledger.list_clients(firm) if c.name == "Acme Pty")
        ledger.record_payment(firm, client_id=acme, date="2026-11-03", amount="150", bank_account_id=bank)
        return fee, ar
    finally:
        firm.close()


def rows(table: DataTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_aging_credit_column_reconciles_with_the_receivable_account(settings):
    fee, ar = books(settings)
    app = create_app(settings, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f6")
        await settle(pilot)
        await pilot.press("2")
        await pilot.pause()
        table = app.screen.query_one("#aging-table", DataTable)
        assert [str(c.label) for c in table.columns.values()][-2:] == ["Credit", "Total"]
        got = {r[0]: r for r in rows(table)}
        assert got["Acme Pty"][-2:] == ["-50.00", "-50.00"]
        assert got["Bolt Ltd"][-2:] == ["", "80.00"]
        assert got["Total"][-2:] == ["-50.00", "30.00"]
        assert ledger.account_balance(app.firm, ar) == 3000  # the aging's total is the receivable balance

        # an account made inactive keeps its balance in the trial balance, dimmed
        accounts.deactivate_account(app.firm, fee)
        await pilot.press("1", "g")
        await pilot.pause()
        table = app.screen.query_one("#tb-table", DataTable)
        code = ledger.get_account(app.firm, fee).code
        [row] = [table.get_row_at(i) for i in range(table.row_count) if str(table.get_row_at(i)[0]) == code]
        assert str(row[3]) == "180.00" and all(isinstance(c, Text) and c.style == "dim" for c in row)


async def test_an_inactive_account_is_not_offered_on_a_new_invoice(settings):
    fee, _ar = books(settings)
    firm = open_firm(settings)
    try:
        accounts.deactivate_account(firm, fee)
        active = [a.id for a in ledger.list_accounts(firm, types=["Income", "Other Income"], active_only=True)]
    finally:
        firm.close()
    app = create_app(settings, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f5")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        offered = [value for _label, value in app.screen.query_one("#account")._options if value is not None]
        offered = [v for v in offered if isinstance(v, int)]
        assert fee not in offered and offered == active
