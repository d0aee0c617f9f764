"""New or edited invoice: client, dates and lines, checked against the ledger's own rules as you type."""

from __future__ import annotations

from dataclasses import replace

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Input, Label, Select, Static

from core.errors import LedgerlinkError
from core.services import ledger
from core.text import counted
from tui.format import money_text, plain_amount
from tui.modals.confirm import ConfirmModal
from tui.modals.form import problem_text
from tui.widgets.text_input import TextInput

EDIT_NOTICE = "Saving replaces the invoice in the ledger and sends the change to QuickBooks Online."
NEW_NOTICE = "Saving posts the invoice and queues it for QuickBooks Online."


class InvoiceModal(ModalScreen[object]):
    """Ctrl+L adds the line being typed, Ctrl+D drops the last line, Ctrl+S saves, Escape cancels."""

    CSS_PATH = "invoice.tcss"
    BINDINGS = [
        Binding("ctrl+l", "add_line", "Add line", id="invoice.add_line", tooltip="Add the line being typed"),
        Binding("ctrl+d", "drop_line", "Drop line", id="invoice.drop_line", tooltip="Remove the last line"),
        Binding("ctrl+s", "save", "Save", id="invoice.save", tooltip="Post the invoice"),
        Binding("escape", "cancel", "Cancel", id="invoice.cancel", tooltip="Close without saving"),
    ]

    def __init__(self, firm, invoice=None) -> None:
        super().__init__()
        self.firm = firm
        self.invoice = invoice
        self.lines: list[dict] = []
        if invoice is not None:
            self.lines = [{"description": l.description, "account_id": l.account_id, "tax_rate_id": l.tax_rate_id,
                           "quantity": l.quantity, "unit_price": plain_amount(l.unit_price_minor)}
                          for l in invoice.lines]

    def compose(self) -> ComposeResult:
        clients = [(c.name, c.id) for c in ledger.list_clients(self.firm)]
        accounts = [(a.label, a.id) for a in ledger.list_accounts(self.firm, types=["Income", "Other Income"])]
        rates = [(f"{r.name}", r.id) for r in ledger.list_tax_rates(self.firm, active_only=True)]
        title = f"Edit invoice {self.invoice.number}" if self.invoice else "New invoice"
        with VerticalScroll(id="invoice-box", can_focus=False):
            yield Label(title, id="invoice-title", markup=False)
            yield Static(EDIT_NOTICE if self.invoice else NEW_NOTICE, id="invoice-notice")
            with Horizontal(classes="row"):
                yield Select(clients, prompt="Client", id="client", disabled=self.invoice is not None,
                             value=self.invoice.client_id if self.invoice else Select.NULL)
                yield TextInput(self.invoice.date if self.invoice else self.app.today().isoformat(),
                            placeholder="Date YYYY-MM-DD", id="date")
            yield DataTable(id="lines", cursor_type="row", show_cursor=False)
            yield Label("New line (Ctrl+L adds it):", classes="hint")
            with Horizontal(classes="row"):
                yield TextInput(placeholder="Description", id="description")
                yield TextInput("1", placeholder="Qty", id="quantity")
                yield TextInput(placeholder="Unit price", id="unit_price")
            with Horizontal(classes="row"):
                yield Select(accounts, prompt="Income account", id="account", value=accounts[0][1] if accounts
                             else Select.NULL)
                yield Select(rates, prompt="Tax rate", id="tax", value=rates[0][1] if rates else Select.NULL)
            yield Static("", id="invoice-problems", markup=False)
            yield Static("", id="invoice-total", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#lines", DataTable)
        table.add_columns("#", "Description", "Account", "Qty", "Unit price")
        for field in self.query(Input):
            if getattr(self.app, "still", False):
                field.cursor_blink = False
        self.redraw()
        self.query_one("#client" if self.invoice is None else "#date").focus()
        self.opened_with = self.draft()  # Escape asks first when anything typed since would be lost

    # -- the draft ----------------------------------------------------------------------------
    def typed_line(self) -> dict | None:
        """The line being typed, or None while its text fields are empty."""
        desc = self.query_one("#description", Input).value
        price = self.query_one("#unit_price", Input).value
        if not desc.strip() and not price.strip():
            return None
        account = self.query_one("#account", Select).value
        tax = self.query_one("#tax", Select).value
        return {"description": desc, "account_id": None if account is Select.NULL else account,
                "tax_rate_id": None if tax is Select.NULL else tax,
                "quantity": self.query_one("#quantity", Input).value, "unit_price": price}

    def draft(self, with_typed: bool = True) -> dict:
        client = self.query_one("#client", Select).value
        lines = list(self.lines)
        typed = self.typed_line() if with_typed else None
        if typed is not None:
            lines.append(typed)
        return {"client_id": None if client is Select.NULL else client,
                "date": self.query_one("#date", Input).value.strip(), "lines": lines}

    def checked(self, draft: dict) -> ledger.InvoiceCheck:
        if draft["client_id"] is None:
            result = ledger.check_invoice(self.firm, **{**draft, "client_id": 0})
            return replace(result, problems=["client: choose the client"]
                           + [p for p in result.problems if not p.startswith("client")])
        return ledger.check_invoice(self.firm, **draft)

    def problems(self, with_typed: bool = True) -> list[str]:
        return self.checked(self.draft(with_typed)).problems

    def redraw(self) -> None:
        table = self.query_one("#lines", DataTable)
        table.clear()
        labels = {a.id: a.code for a in ledger.list_accounts(self.firm)}
        for n, line in enumerate(self.lines, 1):
            table.add_row(str(n), line["description"], labels.get(line["account_id"], "?"), str(line["quantity"]),
                          str(line["unit_price"]))
        table.can_focus = bool(self.lines)  # an empty table is no Tab stop between the date and the new line
        self.check()

    def check(self) -> None:
        draft = self.draft()
        result = self.checked(draft)
        box = self.query_one("#invoice-problems", Static)
        box.update("\n".join(result.problems) if result.problems else "No problems: Ctrl+S saves.")
        box.set_class(bool(result.problems), "-bad")
        left_out = len(draft["lines"]) - result.priced_lines
        self.query_one("#invoice-total", Static).update(
            f"Net {money_text(result.net_minor)} + tax {money_text(result.tax_minor)} = "
            f"total {money_text(result.total_minor)}"
            + (f" (without {counted(left_out, 'line')} with a problem)" if left_out else "") if draft["lines"] else "")

    def on_input_changed(self) -> None:
        self.check()

    def on_select_changed(self) -> None:
        self.check()

    # -- actions ------------------------------------------------------------------------------
    def action_add_line(self) -> None:
        typed = self.typed_line()
        if typed is None:
            self.notify("Type a description and a unit price first.", severity="warning")
            return
        problems = [p for p in self.problems() if p.startswith(f"line {len(self.lines) + 1}")]
        if problems:
            self.notify("\n".join(problems), title="Line not added", severity="error", markup=False)
            return
        self.lines.append(typed)
        for name, value in (("description", ""), ("unit_price", ""), ("quantity", "1")):
            self.query_one(f"#{name}", Input).value = value
        self.query_one("#description", Input).focus()
        self.redraw()

    def action_drop_line(self) -> None:
        if self.lines:
            self.lines.pop()
            self.redraw()

    def action_save(self) -> None:
        draft = self.draft()
        try:
            if self.invoice is None:
                result = ledger.create_invoice(self.firm, client_id=draft["client_id"], date=draft["date"],
                                               lines=draft["lines"])
            else:
                result = ledger.edit_invoice(self.firm, self.invoice.id, date=draft["date"], lines=draft["lines"])
        except LedgerlinkError as exc:
            box = self.query_one("#invoice-problems", Static)
            box.update(problem_text(exc))
            box.add_class("-bad")
            return
        self.notify(f"Invoice {result.number} saved: {money_text(result.total_minor)} {result.currency}.")
        self.dismiss(result)

    def action_cancel(self) -> None:
        if self.draft() == self.opened_with:
            self.dismiss(None)
            return
        what = "this new invoice" if self.invoice is None else f"the changes to {self.invoice.number}"
        self.app.push_screen(ConfirmModal(f"Leave without saving {what}? What you typed is lost.", "Leave"),
                             self.leave)

    def leave(self, yes: bool) -> None:
        if yes:
            self.dismiss(None)  # not returned: Textual would await it from this screen's own handler, and hang
