"""Customers: which QuickBooks customer each client is. The clients waiting on the admin's decision (a QBO
customer of the same name exists and is not linked) are listed with the proposal and why it matches; `l` links
to it, `n` gives the client a new QBO customer, `/` picks another one (searchable). Each asks first, naming both
sides; the services enforce the admin role and their refusal is shown. The decision requeues the client's
documents: they go with the next sync."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Label, Static

from core.money import format_minor
from core.services import customers as service
from tui.modals.confirm import ConfirmModal
from tui.modals.picker import PickerModal
from tui.screens.base import LedgerScreen
from tui.widgets.vlist import Row
from tui.workers import with_own_firm

STATE_TEXT = {"linked": "linked", "proposed": "waits for you", "new": "new (decided)", "will_create": "new"}


def money(minor: int, currency: str) -> str:
    return f"{format_minor(minor, currency)} {currency}"


def side_text(ident, email: str | None) -> str:
    return f"{ident.client_name} (client #{ident.client_id}{', ' + email if email else ''})"


def customer_text(c, currency: str) -> str:
    return (f"{c.display_name} (QuickBooks #{c.id}, {c.email or 'no e-mail'}, open balance "
            f"{money(c.balance_minor, currency)})")


def detail_text(ident, email: str | None, jobs: list[dict] | None = None) -> str:
    """What the admin decides on, in words (and the client's matters as QuickBooks sub-customers)."""
    lines = [f"Client: {side_text(ident, email)}"]
    if ident.proposal is not None:
        p = ident.proposal
        lines.append(f"QuickBooks: {customer_text(p.customer, p.currency)}")
        lines.append(f"Matches by {service.why_text(p.why)}.")
        lines.append("l links the client to it · n gives the client a new customer · / picks another")
    elif ident.state == "linked":
        lines.append(f"QuickBooks: {ident.display_name} (#{ident.qbo_id}), linked"
                     + (f" by {ident.decided_by}" if ident.decided_by else ""))
    else:
        lines.append(f"QuickBooks: the sync creates the customer {ident.display_name}"
                     + (f" (decided by {ident.decided_by})" if ident.decided_by else "")
                     + "; / links it to an existing one instead")
    lines += [f"Renamed: {why}" for why in ident.renamed]
    if jobs:
        lines.append("Sub-customers: " + ", ".join(
            f"{j['display_name']} {'#' + j['qbo_id'] if j['qbo_id'] else '(next sync)'}" for j in jobs))
    return "\n".join(lines)


class CustomersScreen(LedgerScreen):
    HELP_TITLE = "Customers"
    CSS_PATH = "customers.tcss"
    BINDINGS = [
        Binding("l", "link", "Link", id="customers.link", tooltip="Link the client to the proposed QBO customer"),
        Binding("n", "new", "New customer", id="customers.new", tooltip="Give the client a new QBO customer"),
        Binding("slash", "other", "Other customer", id="customers.other",
                tooltip="Search the QBO customers and link the client to the one chosen"),
        Binding("a", "toggle_all", "All clients", id="customers.all",
                tooltip="Show every client, or only those waiting for a decision"),
        Binding("j", "jobs", "Matters as sub-customers", id="customers.jobs", show=False,
                tooltip="Switch the firm setting: each matter's documents go to a QuickBooks sub-customer"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.show_all = False
        self.rows: list = []
        self.focus_client: int | None = None

    def compose_body(self) -> ComposeResult:
        yield Label("Customers: which QuickBooks customer each client is", classes="step-title")
        yield Static("", id="customers-summary", markup=False)
        yield DataTable(id="customers", cursor_type="row")
        yield Static("", id="customers-detail", markup=False)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#customers", DataTable).add_columns("Client", "QuickBooks customer", "State")
        self.refresh_rows()
        self.query_one("#customers", DataTable).focus()

    def on_screen_resume(self) -> None:
        self.refresh_rows()

    # -- the list ------------------------------------------------------------------------------
    def refresh_rows(self) -> None:
        every = service.list_customers(self.firm)
        waiting = [i for i in every if i.state == "proposed"]
        if self.focus_client is not None and not any(i.client_id == self.focus_client for i in waiting):
            self.show_all = True  # the client the monitor asked for no longer waits: show it among all
        self.rows = every if self.show_all else waiting
        table = self.query_one("#customers", DataTable)
        table.clear()
        for ident in self.rows:
            qbo = ident.proposal.customer.display_name if ident.proposal else ident.display_name
            table.add_row(ident.client_name, qbo + (f" #{ident.proposal.customer.id}" if ident.proposal else ""),
                          STATE_TEXT[ident.state], key=str(ident.client_id))
        if self.focus_client is not None:
            at = next((n for n, i in enumerate(self.rows) if i.client_id == self.focus_client), None)
            if at is not None:
                table.move_cursor(row=at)
        shown = "every client" if self.show_all else "the clients waiting"
        jobs = " Matters go to QuickBooks as sub-customers (j)." if service.matters_as_jobs(self.firm) else ""
        self.query_one("#customers-summary", Static).update(
            (f"{len(waiting)} client(s) wait for your decision; their documents are not sent until then. "
             if waiting else "No client waits for a decision. ")
            + f"Showing {shown} (a switches).{jobs}")
        self.show_detail()

    def show_client(self, client_id: int) -> None:
        """Open on this client (the monitor's f on a document parked for its customer)."""
        self.focus_client = client_id
        if self.is_mounted:
            self.refresh_rows()  # else on_mount shows it

    def highlighted(self):
        table = self.query_one("#customers", DataTable)
        if not self.rows or not table.row_count:
            return None
        return self.rows[min(table.cursor_row, len(self.rows) - 1)]

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail()

    def show_detail(self) -> None:
        ident = self.highlighted()
        jobs = [j for j in service.jobs(self.firm) if ident and j["client_id"] == ident.client_id]
        text = detail_text(ident, service.client_email(self.firm, ident.client_id), jobs) if ident else (
            "Nothing to decide. a shows every client.")
        self.query_one("#customers-detail", Static).update(text)

    def action_toggle_all(self) -> None:
        self.show_all = not self.show_all
        self.focus_client = None
        self.refresh_rows()

    # -- decisions -----------------------------------------------------------------------------
    def action_link(self) -> None:
        ident = self.highlighted()
        if ident is None or ident.proposal is None:
            self.notify("This client has no proposed QuickBooks customer: / picks one.", severity="warning")
            return
        p = ident.proposal
        self.confirm_link(ident, p.customer, p.currency)

    def confirm_link(self, ident, customer, currency: str) -> None:
        email = service.client_email(self.firm, ident.client_id)
        question = (f"Link the client {side_text(ident, email)} to the QuickBooks customer "
                    f"{customer_text(customer, currency)}? Its documents go to that customer with the next sync; "
                    "once they are there the link stays.")
        self.app.push_screen(ConfirmModal(question, "Link"),
                             lambda yes: self.decide("link", ident.client_id, customer.id) if yes else None)

    def undecided(self):
        """The highlighted client when it still waits on a decision (a linked one is said so), else None."""
        ident = self.highlighted()
        if ident is not None and ident.state == "linked":
            self.notify(f"{ident.client_name} is already linked to a QuickBooks customer.", severity="warning",
                        markup=False)
            return None
        return ident

    def action_new(self) -> None:
        ident = self.undecided()
        if ident is None:
            return
        name = service.new_name(self.firm, ident.client_id)
        instead = (f" instead of linking it to {ident.proposal.customer.display_name} "
                   f"(QuickBooks #{ident.proposal.customer.id})" if ident.proposal else "")
        email = service.client_email(self.firm, ident.client_id)
        question = (f"Give the client {side_text(ident, email)} a new QuickBooks customer named {name}{instead}? "
                    "The next sync creates it and sends the client's documents to it.")
        self.app.push_screen(ConfirmModal(question, "Create"),
                             lambda yes: self.decide("new", ident.client_id) if yes else None)

    def action_other(self) -> None:
        ident = self.undecided()
        if ident is None:
            return
        self.notify("Reading the QuickBooks customers…", timeout=3)
        self.read_customers(ident)

    @work(thread=True, exclusive=True, group="customers")
    def read_customers(self, ident) -> None:
        """Network: QBO's customers now, so the picker offers what QuickBooks holds (the cache when offline)."""
        def failed(exc) -> None:
            self.notify(f"QuickBooks could not be read ({exc}); the customers pulled before are offered.",
                        severity="warning", markup=False)

        try:
            with_own_firm(self.app, service.refresh_customers, failed)
        except Exception as exc:  # offline, a timeout: the cache is still worth offering
            self.app.call_from_thread(failed, exc)
        self.app.call_from_thread(self.pick_other, ident)

    def pick_other(self, ident) -> None:
        self.app.clear_notifications()  # the "Reading..." toast would sit over the picker
        choices = service.choices(self.firm, ident.client_id)
        if not choices:
            self.notify("No QuickBooks customer in the reference data: pull it first (Mapping, or ledgerlink pull).",
                        severity="warning")
            return
        currency = ident.proposal.currency if ident.proposal else None
        rows = [Row(c.customer.id, f"{c.customer.display_name}  #{c.customer.id}  {c.customer.email or ''}",
                    struck=c.problem is not None, note=c.problem or "") for c in choices]
        reasons = {c.customer.id: f"{c.customer.display_name}: {c.problem}" for c in choices if c.problem}
        by_id = {c.customer.id: c.customer for c in choices}

        def chosen(key: str | None) -> None:
            if key is not None:
                self.confirm_link(ident, by_id[key], currency or service.currency_of(self.firm))

        self.app.push_screen(PickerModal(f"Link {ident.client_name} to which QuickBooks customer?", rows, reasons),
                             chosen)

    def action_jobs(self) -> None:
        on = not service.matters_as_jobs(self.firm)
        question = ("Send each matter's invoices, credit notes and payments to a QuickBooks sub-customer of its "
                    "client's customer (named after the matter's reference and name)? Only before the first "
                    "document is synced." if on else
                    "Send every document to its client's QuickBooks customer again, matters no longer as "
                    "sub-customers? Only before the first document is synced.")
        self.app.push_screen(ConfirmModal(question, "Switch on" if on else "Switch off"),
                             lambda yes: self.switch_jobs(on) if yes else None)

    @work(thread=True, exclusive=True, group="customers")
    def switch_jobs(self, on: bool) -> None:
        done = with_own_firm(self.app, lambda firm: service.set_matters_as_jobs(firm, on), self.app.show_error)
        if done is not None:
            self.app.call_from_thread(self.jobs_switched, done)

    def jobs_switched(self, on: bool) -> None:
        self.notify("Matters go to QuickBooks as sub-customers." if on else
                    "Every document goes to its client's QuickBooks customer.", title="Customers")
        self.refresh_rows()

    @work(thread=True, exclusive=True, group="customers")
    def decide(self, decision: str, client_id: int, qbo_id: str | None = None) -> None:
        def act(firm):
            if decision == "link":
                return service.link_customer(firm, client_id, qbo_id)
            return service.new_customer(firm, client_id)

        ident = with_own_firm(self.app, act, self.app.show_error)
        if ident is not None:
            self.app.call_from_thread(self.decided, ident)

    def decided(self, ident) -> None:
        if ident.state == "linked":
            text = f"{ident.client_name} is linked to {ident.display_name} (#{ident.qbo_id})"
        else:
            text = f"{ident.client_name} gets a new QuickBooks customer named {ident.display_name}"
        self.notify(f"{text}; its documents go with the next sync.", title="Customers", markup=False, timeout=10)
        self.refresh_rows()
        self.app.sync_if_queued()
