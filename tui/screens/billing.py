"""Billing for bookkeepers: invoices, payments and credit notes with each document's sync state; new, edit
and delete invoices; record a payment (operating or trust); issue a credit note or a write-off."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Input, Static, TabbedContent, TabPane

from core.errors import LedgerlinkError
from core.services import ledger, locks
from core.services import sync as sync_service
from core.text import counted
from tui.format import money_text, plain_amount
from tui.messages import SyncFinished
from tui.modals.confirm import ConfirmModal
from tui.modals.form import Field, FormModal, problem_text
from tui.modals.invoice import InvoiceModal
from tui.screens.billing_forms import client_form, credit_edit_form, matter_form, payment_edit_form
from tui.screens.base import TabbedScreen, tab_bindings, tab_title
from tui.widgets.text_input import TextInput

SYNC_WORDS = {"queued": "to send", "sending": "sending", "done": "in QBO", "parked": "PARKED"}


def sync_word(states: dict[int, str], doc_id: int) -> str:
    return SYNC_WORDS.get(states.get(doc_id, ""), "not queued")


def upper_first(text: str) -> str:
    """`text` with its first letter a capital, to start a sentence (`str.capitalize` lowers the rest)."""
    return text[:1].upper() + text[1:]


class BillingScreen(TabbedScreen):
    """Invoice keys work on the highlighted invoice; every change is queued for QBO in the same transaction."""

    CSS_PATH = "billing.tcss"
    TABS = (("invoices", "Invoices"), ("payments", "Payments"), ("credits", "Credit notes"), ("clients", "Clients"),
            ("matters", "Matters"))
    TAB_FOCUS = {"invoices": "#invoice-table", "payments": "#payment-table", "credits": "#credit-table",
                 "clients": "#client-table", "matters": "#matter-table"}
    BINDINGS = [
        Binding("n", "new_invoice", "New invoice", id="billing.new", tooltip="Write a new invoice"),
        Binding("e", "edit", "Edit", id="billing.edit", tooltip="Edit the highlighted document of this tab"),
        Binding("x", "delete", "Delete", id="billing.delete", tooltip="Delete the highlighted document of this tab"),
        Binding("p", "payment", "Payment", id="billing.payment", tooltip="Record a payment of this invoice"),
        Binding("c", "credit('credit')", "Credit note", id="billing.credit", tooltip="Credit part of this invoice"),
        Binding("w", "credit('writeoff')", "Write off", id="billing.writeoff", tooltip="Write this debt off"),
        Binding("k", "new_client", "New client", id="billing.client", tooltip="Add a client"),
        Binding("m", "new_matter", "New matter", id="billing.matter", tooltip="Open a matter for this client"),
        Binding("o", "open_close_matter", "Open/close", id="billing.matter_open",
                tooltip="Close the highlighted matter, or open it again"),
        Binding("V", "void", "Void", id="billing.void", show=False,
                tooltip="Void the highlighted invoice or payment: it stays, with its number and zero amounts"),
        Binding("v", "preview", "Preview", id="billing.preview", show=False,
                tooltip="The highlighted invoice as the client would see it"),
        Binding("slash", "search", "Search", id="billing.search",
                tooltip="Show only the rows with every word typed (name, reference or number)"),
        *tab_bindings("billing", TABS),
    ]

    def compose_body(self) -> ComposeResult:
        with TabbedContent(id="billing-tabs"):
            with TabPane(tab_title(1, "Invoices"), id="invoices"):
                yield DataTable(id="invoice-table", cursor_type="row", zebra_stripes=True)
            with TabPane(tab_title(2, "Payments"), id="payments"):
                yield DataTable(id="payment-table", cursor_type="row", zebra_stripes=True)
            with TabPane(tab_title(3, "Credit notes"), id="credits"):
                yield DataTable(id="credit-table", cursor_type="row", zebra_stripes=True)
            with TabPane(tab_title(4, "Clients"), id="clients"):
                yield DataTable(id="client-table", cursor_type="row", zebra_stripes=True)
            with TabPane(tab_title(5, "Matters"), id="matters"):
                yield DataTable(id="matter-table", cursor_type="row", zebra_stripes=True)
        yield TextInput(placeholder="/ search: name, reference or number (Enter keeps it, Esc clears)",
                        id="billing-search")
        yield Static("", id="billing-note", markup=False)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#invoice-table", DataTable).add_columns("Number", "Client", "Date", "Total", "Open", "Sync")
        self.query_one("#payment-table", DataTable).add_columns("Date", "Client", "Invoice", "Reference", "Amount",
                                                                "From", "Sync")
        self.query_one("#credit-table", DataTable).add_columns("Number", "Kind", "Invoice", "Total", "Sync")
        self.query_one("#client-table", DataTable).add_columns("Client", "E-mail", "Phone", "Matters")
        self.query_one("#matter-table", DataTable).add_columns("Reference", "Matter", "Client", "State")
        self.search_text = ""
        self.query_one("#billing-search", Input).display = False
        self.refresh_lists()
        self.query_one("#invoice-table", DataTable).focus()

    def on_screen_resume(self) -> None:
        self.refresh_lists()

    def refresh_lists(self) -> None:
        if not ledger.firm_exists(self.firm):
            self.query_one("#billing-note", Static).update("Set the firm up first (F2).")
            return
        clients = ledger.list_clients(self.firm)
        names = {c.id: c.name for c in clients}
        invoices = ledger.list_invoices(self.firm)
        numbers = {i.id: i.number for i in invoices}
        self.invoice_numbers = numbers
        states = sync_service.doc_states(self.firm, "invoice")
        shown = ("posted", "voided")  # a voided document stays, with its number, as in QuickBooks
        self.invoices = self.fill("invoice-table", [i for i in invoices if i.status in shown],
                                  lambda inv: (inv.number, inv.client_name, inv.date, money_text(inv.total_minor),
                                               "void" if inv.status == "voided" else money_text(inv.open_balance_minor),
                                               sync_word(states, inv.id)))
        pay_states = sync_service.doc_states(self.firm, "payment")
        self.payments = self.fill(
            "payment-table", [p for p in ledger.list_payments(self.firm) if p.status in shown],
            lambda pay: (pay.date, names.get(pay.client_id, "?"),
                         "void" if pay.status == "voided" else
                         ", ".join(numbers.get(a.invoice_id, "?") for a in pay.allocations) or "on account",
                         pay.reference or "", money_text(pay.amount_minor), "trust" if pay.from_trust else "bank",
                         sync_word(pay_states, pay.id)))
        credit_states = sync_service.doc_states(self.firm, "credit_note")
        self.credits = self.fill(
            "credit-table", [n for n in ledger.list_credit_notes(self.firm) if n.status == "posted"],
            lambda note: (note.number, "write-off" if note.kind == "writeoff" else "credit",
                          numbers.get(note.invoice_id, "?"), money_text(note.total_minor),
                          sync_word(credit_states, note.id)))
        matters = ledger.list_matters(self.firm)
        counts: dict[int, int] = {}
        for m in matters:
            counts[m.client_id] = counts.get(m.client_id, 0) + (1 if m.open else 0)
        self.clients = self.fill("client-table", clients,
                                 lambda c: (c.name, c.email or "", c.phone or "", str(counts.get(c.id, 0))))
        self.matters = self.fill("matter-table", matters,
                                 lambda m: (m.reference, m.name, names.get(m.client_id, "?"),
                                            "open" if m.open else "closed"))
        note = (f"{counted(len(self.invoices), 'invoice')}. n new, e edit, x delete, V void, p payment, c credit, "
                "w write-off.")
        if self.search_text:
            note = f"Showing the rows with \"{self.search_text}\": / to change, Esc in the search clears it."
        elif not self.invoices and not clients:
            note = "No clients yet: k adds one, then n writes an invoice."  # the footer is cut before k at 80
        elif self.tab in ("clients", "matters"):
            note = "k new client, e edit, m new matter, o open or close a matter, / search."
        self.query_one("#billing-note", Static).update(note)

    def fill(self, table_id: str, items: list, cells) -> list:
        """Fill one table with the items whose cells hold every word searched; the items shown, in order."""
        words = self.search_text.lower().split()
        rows = [(item, [str(c) for c in cells(item)]) for item in items]
        if words:
            rows = [(item, row) for item, row in rows if all(any(w in c.lower() for c in row) for w in words)]
        table = self.query_one(f"#{table_id}", DataTable)
        keep = table.cursor_row
        table.clear()
        for item, row in rows:
            table.add_row(*row, key=str(item.id))
        if table.row_count:
            table.move_cursor(row=min(keep, table.row_count - 1))
        return [item for item, _ in rows]

    # -- search -------------------------------------------------------------------------------
    def action_search(self) -> None:
        field = self.query_one("#billing-search", Input)
        field.display = True
        field.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "billing-search":
            self.search_text = event.value.strip()
            self.refresh_lists()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "billing-search":
            event.stop()
            self.query_one(self.TAB_FOCUS.get(self.tab, "#invoice-table")).focus()

    def on_key(self, event) -> None:
        field = self.query_one("#billing-search", Input)
        if event.key == "escape" and field.has_focus:
            event.stop()
            field.value = ""
            field.display = False
            self.query_one(self.TAB_FOCUS.get(self.tab, "#invoice-table")).focus()

    def on_tabbed_content_tab_activated(self, event) -> None:
        self.refresh_lists()

    def on_sync_finished(self, message: SyncFinished) -> None:
        """A background sync ended while this screen was up: show the new sync states."""
        self.refresh_lists()

    def action_preview(self) -> None:
        inv = self.current_invoice()
        if inv is not None:
            from tui.modals.preview import open_preview, preview_service

            open_preview(self, lambda firm: preview_service.invoice_preview(firm, inv.id))

    def current_invoice(self):
        """The invoice highlighted on the Invoices tab; None (and said why) on another tab or an empty list."""
        if self.tab != "invoices":
            self.notify("Choose the invoice on the Invoices tab (1) first.", severity="warning")
            return None
        return self.current("invoice-table", self.invoices, "invoice")

    def current(self, table_id: str, rows: list, what: str):
        table = self.query_one(f"#{table_id}", DataTable)
        if not rows or not table.row_count:
            self.notify(f"There is no {what} to work on.", severity="warning")
            return None
        return rows[min(table.cursor_row, len(rows) - 1)]

    def live(self, doc, label):
        """`doc`, or None (and said why, naming it by `label(doc)`) when it was voided: a voided document is kept,
        never changed."""
        if doc is not None and doc.status == "voided":
            self.notify(f"{upper_first(label(doc))} was voided; a voided document cannot be changed.",
                        severity="warning", markup=False)
            return None
        return doc

    def live_invoice(self):
        return self.live(self.current_invoice(), lambda inv: f"invoice {inv.number}")

    def live_payment(self):
        return self.live(self.current("payment-table", self.payments, "payment"), self.payment_label)

    def payment_label(self, pay) -> str:
        if pay.reference:
            return f"payment {pay.reference}"
        return f"payment of {money_text(pay.amount_minor)} on {pay.date}"

    def done(self, result) -> None:
        if result is not None:
            self.refresh_lists()
            self.app.wake_sync()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id in ("invoice-table", "payment-table", "credit-table", "client-table", "matter-table"):
            event.stop()
            self.action_edit()

    def action_edit(self) -> None:
        {"invoices": self.action_edit_invoice, "payments": self.action_edit_payment,
         "credits": self.action_edit_credit, "clients": self.action_edit_client,
         "matters": self.action_edit_matter}.get(self.tab, self.action_edit_invoice)()

    def action_delete(self) -> None:
        if self.tab in ("clients", "matters"):
            self.notify("Clients and matters are kept with their documents: o closes a matter instead.",
                        severity="warning")
            return
        {"invoices": self.action_delete_invoice, "payments": self.action_delete_payment,
         "credits": self.action_delete_credit}.get(self.tab, self.action_delete_invoice)()

    # -- actions ------------------------------------------------------------------------------
    def action_new_client(self) -> None:
        self.app.push_screen(client_form(self.firm, None), self.done)

    def action_edit_client(self) -> None:
        client = self.current("client-table", self.clients, "client")
        if client is not None:
            self.app.push_screen(client_form(self.firm, client), self.done)

    def matter_client(self):
        """The client a new matter is for: the highlighted client, or the highlighted matter's or invoice's."""
        if self.tab == "clients":
            return self.current("client-table", self.clients, "client")
        if self.tab == "matters" and self.matters:
            matter = self.current("matter-table", self.matters, "matter")
            return ledger.get_client(self.firm, matter.client_id) if matter else None
        if self.tab == "invoices" and self.invoices:
            inv = self.current("invoice-table", self.invoices, "invoice")
            return ledger.get_client(self.firm, inv.client_id) if inv else None
        self.notify("Choose the client on the Clients tab (4) first.", severity="warning")
        return None

    def action_new_matter(self) -> None:
        client = self.matter_client()
        if client is not None:
            self.app.push_screen(matter_form(self.firm, client, None), self.done)

    def action_edit_matter(self) -> None:
        matter = self.current("matter-table", self.matters, "matter")
        if matter is not None:
            self.app.push_screen(matter_form(self.firm, ledger.get_client(self.firm, matter.client_id), matter),
                                 self.done)

    def action_open_close_matter(self) -> None:
        if self.tab != "matters":
            self.notify("Choose the matter on the Matters tab (5) first.", severity="warning")
            return
        matter = self.current("matter-table", self.matters, "matter")
        if matter is None:
            return
        try:
            changed = ledger.edit_matter(self.firm, matter.id, open_=not matter.open)
        except LedgerlinkError as exc:
            self.notify(problem_text(exc), title="Not changed", severity="error", markup=False)
            return
        self.notify(f"Matter {changed.reference} {changed.name} is {'open' if changed.open else 'closed'}.",
                    markup=False)
        self.refresh_lists()

    def action_new_invoice(self) -> None:
        if not ledger.list_clients(self.firm):
            self.notify("Add a client first (k).", severity="warning")
            return
        self.app.push_screen(InvoiceModal(self.firm), self.done)

    def edit_invoice(self, invoice_id: int) -> None:
        """Open the editor on one invoice (the sync monitor's jump-to-fix uses this)."""
        self.app.push_screen(InvoiceModal(self.firm, ledger.get_invoice(self.firm, invoice_id)), self.done)

    def action_edit_invoice(self) -> None:
        inv = self.live_invoice()
        if inv is not None:
            self.edit_invoice(inv.id)

    def action_delete_invoice(self) -> None:
        inv = self.live_invoice()
        if inv is not None:
            self.ask_delete(f"invoice {inv.number} ({money_text(inv.total_minor)})", f"Invoice {inv.number}",
                            lambda: ledger.delete_invoice(self.firm, inv.id))

    def ask_delete(self, what: str, done_what: str, delete) -> None:
        """Confirm naming the document, then delete it (the ledger reverses it; QBO is told at the next sync)."""
        self.ask(f"Delete {what}? The ledger reverses it and the deletion will be sent to QBO.", "Delete",
                 "Not deleted", f"{done_what} deleted; the deletion will be sent to QBO.", delete)

    def ask_void(self, what: str, done_what: str, void) -> None:
        """Confirm naming the document, then void it (it stays at zero; QBO voids it at the next sync)."""
        self.ask(f"Void {what}? It keeps its number with zero amounts, the ledger reverses it, and the void will "
                 "be sent to QBO.", "Void", "Not voided", f"{done_what} voided; the void will be sent to QBO.", void)

    def ask(self, question: str, yes_label: str, refused_title: str, done_text: str, change) -> None:
        def answered(yes: bool | None) -> None:
            if not yes:
                return
            try:
                change()
            except LedgerlinkError as exc:
                self.notify(problem_text(exc), title=refused_title, severity="error", markup=False)
                return
            self.notify(done_text, markup=False)
            self.refresh_lists()
            self.app.wake_sync()

        self.app.push_screen(ConfirmModal(question, yes_label), answered)

    def action_void(self) -> None:
        if self.tab == "invoices":
            inv = self.live_invoice()
            if inv is not None:
                self.ask_void(f"invoice {inv.number} ({money_text(inv.total_minor)})", f"Invoice {inv.number}",
                              lambda: locks.void_invoice(self.firm, inv.id))
        elif self.tab == "payments":
            pay = self.live_payment()
            if pay is not None:
                label = self.payment_label(pay)
                self.ask_void(f"{label} ({money_text(pay.amount_minor)})", upper_first(label),
                              lambda: locks.void_payment(self.firm, pay.id))
        else:
            self.notify("Invoices (1) and payments (2) can be voided; QuickBooks has no void for a credit note or "
                        "write-off (x deletes one).", severity="warning")

    def action_edit_payment(self) -> None:
        pay = self.live_payment()
        if pay is not None:
            self.app.push_screen(payment_edit_form(self.firm, pay, self.payment_label(pay),
                                                   self.invoice_numbers), self.done)

    def action_delete_payment(self) -> None:
        pay = self.live_payment()
        if pay is not None:
            label = self.payment_label(pay)
            self.ask_delete(f"{label} ({money_text(pay.amount_minor)})", upper_first(label),
                            lambda: ledger.delete_payment(self.firm, pay.id))

    def action_edit_credit(self) -> None:
        note = self.current("credit-table", self.credits, "credit note")
        if note is not None:
            self.app.push_screen(credit_edit_form(self.firm, note, self.invoice_numbers), self.done)

    def action_delete_credit(self) -> None:
        note = self.current("credit-table", self.credits, "credit note")
        if note is not None:
            what = "write-off" if note.kind == "writeoff" else "credit note"
            self.ask_delete(f"{what} {note.number} ({money_text(note.total_minor)})",
                            f"{what.capitalize()} {note.number}", lambda: ledger.delete_credit_note(self.firm, note.id))

    def default_date(self, inv) -> str:
        """Today, or the invoice's date when that is later (nothing is paid or credited before it is billed)."""
        return max(self.app.today().isoformat(), inv.date)

    def action_payment(self) -> None:
        inv = self.live_invoice()
        if inv is None:
            return
        operating = [(b.name, b.id) for b in ledger.list_bank_accounts(self.firm, "operating")]
        trust = [(b.name, b.id) for b in ledger.list_bank_accounts(self.firm, "trust")]
        fields = [
            Field("amount", "Amount", value=plain_amount(inv.open_balance_minor)),
            Field("date", "Date (YYYY-MM-DD)", value=self.default_date(inv)),
            Field("bank", "Into operating account", "select", operating, operating[0][1] if operating else None),
            Field("from_trust", "Paid from the client's trust money", "check", value=False),
        ]
        if trust:
            fields.append(Field("trust_bank", "Trust account (when paid from trust)", "select", trust, trust[0][1]))

        def submit(v: dict):
            return ledger.record_payment(
                self.firm, client_id=inv.client_id, date=v["date"], amount=v["amount"], bank_account_id=v["bank"],
                allocations=[(inv.id, v["amount"])], from_trust=v["from_trust"],
                trust_bank_account_id=v.get("trust_bank") if v["from_trust"] else None)

        self.app.push_screen(FormModal(f"Payment of {inv.number} by {inv.client_name}", fields, submit,
                                       note="The payment is posted and queued for QBO."), self.done)

    def action_credit(self, kind: str) -> None:
        inv = self.live_invoice()
        if inv is None:
            return
        prefix = self.app.settings.ledger.writeoff_prefix if kind == "writeoff" else self.app.settings.ledger.credit_prefix
        what = "Write off" if kind == "writeoff" else "Credit note on"
        fields = [Field("amount", "Amount" if kind == "writeoff" else "Amount before tax",
                        value=plain_amount(inv.open_balance_minor)),
                  Field("date", "Date (YYYY-MM-DD)", value=self.default_date(inv))]
        self.app.push_screen(
            FormModal(f"{what} {inv.number}", fields,
                      lambda v: ledger.issue_credit_note(self.firm, invoice_id=inv.id, date=v["date"], kind=kind,
                                                         amount=v["amount"]),
                      note=f"Numbered {prefix}… for you; it is posted and queued for QBO."),
            self.done)
