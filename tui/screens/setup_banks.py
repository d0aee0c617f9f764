"""Setup › Bank accounts: operating bank accounts, each linked to a bank contact and a GL Bank account."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from core.services import ledger
from core.text import counted
from tui.modals.form import Field, FormModal
from tui.screens.step import StepScreen


class BankAccountsScreen(StepScreen):
    """The firm's bank accounts of one kind; `b` adds a bank contact, `a` links a new bank account."""

    CSS_PATH = "setup_banks.tcss"
    STEP_IDS = ("bank_account",)
    PLACE = "Bank accounts"
    KIND = "operating"
    GL_SUBTYPES: tuple[str, ...] = ("operating_bank", "general")
    INTRO = "Where the firm's fees are paid in. Each needs a bank (a contact) and a GL account of type Bank."
    BINDINGS = [
        Binding("a", "add_bank_account", "Add account", id="banks.add", tooltip="Link a new bank account"),
        Binding("b", "add_bank", "Add bank", id="banks.add_bank", tooltip="Add a bank contact"),
    ]

    def compose_step(self) -> ComposeResult:
        yield DataTable(id="banks", cursor_type="row")
        yield Static("", id="banks-empty", classes="note")

    @property
    def article(self) -> str:
        return "an" if self.KIND[0] in "aeiou" else "a"

    def on_mount(self) -> None:
        self.query_one("#banks", DataTable).add_columns("Name", "Bank", "GL account")
        super().on_mount()
        self.query_one("#banks", DataTable).focus()

    def refresh_data(self) -> None:
        table = self.query_one("#banks", DataTable)
        table.clear()
        if not ledger.firm_exists(self.firm):
            self.query_one("#banks-empty", Static).update("Create the firm first (Setup › Billing).")
            return
        banks = {c.id: c.name for c in ledger.list_contacts(self.firm, "bank")}
        accounts = {a.id: a.label for a in ledger.list_accounts(self.firm)}
        rows = ledger.list_bank_accounts(self.firm, self.KIND)
        for row in rows:
            table.add_row(row.name, banks.get(row.bank_contact_id, "?"), accounts.get(row.gl_account_id, "?"))
        hint = f"{counted(len(banks), 'bank contact')}. Press b to add a bank, a to link {self.article} {self.KIND} account."
        self.query_one("#banks-empty", Static).update(hint)

    def action_add_bank(self) -> None:
        self.app.push_screen(
            FormModal("Add a bank contact", [Field("name", "Bank name", placeholder="e.g. First National Bank")],
                      lambda v: ledger.add_contact(self.firm, v["name"], "bank")),
            self.after_form,
        )

    def action_add_bank_account(self) -> None:
        banks = [(c.name, c.id) for c in ledger.list_contacts(self.firm, "bank")]
        accounts = [(a.label, a.id) for a in ledger.list_accounts(self.firm, types=["Bank"])
                    if a.subtype in self.GL_SUBTYPES]
        if not banks:
            self.notify("Add the bank first (b).", severity="warning")
            return
        fields = [
            Field("name", "Account name", placeholder=f"e.g. {self.KIND.capitalize()} account"),
            Field("bank", "Bank", "select", banks, banks[0][1]),
            Field("gl", "GL account (type Bank)", "select", accounts, accounts[0][1] if accounts else None),
        ]
        self.app.push_screen(
            FormModal(f"Link {self.article} {self.KIND} bank account", fields,
                      lambda v: ledger.add_bank_account(self.firm, name=v["name"], kind=self.KIND,
                                                        bank_contact_id=v["bank"], gl_account_id=v["gl"])),
            self.after_form,
        )
