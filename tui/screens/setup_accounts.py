"""Setup › Accounts: the chart of accounts; add fee-income and expense-recovery accounts."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from core.services import ledger
from tui.format import clipped, short_type
from tui.modals.form import Field, FormModal
from tui.screens.step import StepScreen

# The roles an admin adds here, with the QBO account type each takes.
NEW_ACCOUNT_KINDS = (
    ("Fee income (Income)", ("fee_income", "Income")),
    ("Expense recovery (Income)", ("expense_recovery", "Income")),
    ("Expense recovery (Other Income)", ("expense_recovery", "Other Income")),
)
ROLE_NAMES = {"fee_income": "fee income", "expense_recovery": "expense recovery", "operating_bank": "operating bank",
              "trust_bank": "trust bank", "trust_liability": "trust liability", "sales_tax": "sales tax",
              "receivable": "receivable", "bad_debt": "bad debt", "discount": "discount", "general": ""}


class AccountsScreen(StepScreen):
    """Every ledger account (code, name, type, role); `a` adds an income or expense-recovery account."""

    CSS_PATH = "setup_accounts.tcss"
    STEP_IDS = ("income_accounts",)
    PLACE = "Accounts"
    INTRO = "Invoices post fees to fee-income accounts and disbursements to expense-recovery accounts."
    BINDINGS = [Binding("a", "add_account", "Add account", id="accounts.add",
                        tooltip="Add a fee-income or expense-recovery account")]

    def compose_step(self) -> ComposeResult:
        yield DataTable(id="accounts", cursor_type="row", zebra_stripes=True)
        yield Static("Later changes: Accounts (F8), where m also refreshes the QBO map.", classes="note")

    def on_mount(self) -> None:
        self.query_one("#accounts", DataTable).add_columns("Code", "Name", "Type", "Role")
        super().on_mount()
        self.query_one("#accounts", DataTable).focus()

    def refresh_data(self) -> None:
        table = self.query_one("#accounts", DataTable)
        table.clear()
        if not ledger.firm_exists(self.firm):
            return
        for account in ledger.list_accounts(self.firm):
            table.add_row(account.code, clipped(account.name, 34), short_type(account.type),
                          ROLE_NAMES.get(account.subtype, account.subtype))

    def action_add_account(self) -> None:
        fields = [
            Field("kind", "Kind", "select", NEW_ACCOUNT_KINDS, NEW_ACCOUNT_KINDS[0][1]),
            Field("code", "Code", placeholder="e.g. 4150"),
            Field("name", "Name", placeholder="e.g. Fee income - litigation"),
        ]

        def submit(values: dict):
            subtype, account_type = values["kind"] or NEW_ACCOUNT_KINDS[0][1]
            return ledger.add_account(self.firm, code=values["code"], name=values["name"],
                                      type=account_type, subtype=subtype)

        self.app.push_screen(FormModal("Add an account", fields, submit), self.after_form)
