"""Trust: client money by client, matter and trust account; receive, disburse, refund, transfer and pay from trust;
statement import and matching; the three-way reconciliation at a glance. Reads and writes run in workers."""

from __future__ import annotations

from dataclasses import dataclass

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from rich.text import Text
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from tui.format import money_text
from tui.screens.base import TabbedScreen, tab_bindings, tab_title


def amount(minor: int) -> Text:
    return Text(money_text(minor), justify="right")

MOVES = ("receive", "disburse", "refund", "transfer", "pay")
MATCHING = ("import_statement", "match", "unmatch", "outstanding")


@dataclass(frozen=True)
class TrustView:
    """What the screen shows, read in a worker."""

    ledgers: object  # core.ledger.trust_models.ClientLedgers
    accounts: tuple  # trust BankAccount records
    clients: tuple
    invoices: tuple  # open invoices (pay from trust)
    lines: tuple  # statement lines of the current account
    items: tuple  # ledger entries of the current account
    locked_until: str | None
    transactions: tuple = ()  # trust documents touching the current account


NO_FIRM = object()  # what the reader gives on a database without a firm yet


def read_view(firm, account_id: int | None) -> TrustView:
    from core.services import ledger
    from core.services import trust as S

    accounts = tuple(S.trust_accounts(firm))
    lines: tuple = ()
    items: tuple = ()
    moves: tuple = ()
    locked = None
    if account_id is not None:
        found, ledger_items = S.statement(firm, account_id)
        lines, items, locked = tuple(found), tuple(ledger_items), S.locked_until(firm, account_id)
        moves = tuple(S.list_transactions(firm, bank_account_id=account_id))
    invoices = tuple(i for i in ledger.list_invoices(firm) if i.status == "posted" and i.open_balance_minor > 0)
    return TrustView(S.ledger(firm), accounts, tuple(ledger.list_clients(firm)), invoices, lines, items, locked,
                     moves)


class TrustScreen(TabbedScreen):
    """Each tab's keys show in the footer while it is open (moves on Balances; import, match, unmatch and
    outstanding on Matching; reconcile on Reconcile); the forms post in workers."""

    CSS_PATH = "trust.tcss"
    HELP_TITLE = "Trust"
    TABS = (("balances", "Balances"), ("matching", "Matching"), ("reconcile", "Reconcile"),
            ("transactions", "Transactions"))
    TAB_FOCUS = {"balances": "#trust-ledgers", "matching": "#trust-lines", "reconcile": "#trust-result-box",
                 "transactions": "#trust-moves"}
    BINDINGS = [
        Binding("r", "move('receive')", "Receive", id="trust.receive", tooltip="Client money received into trust"),
        Binding("d", "move('disburse')", "Disburse", id="trust.disburse", tooltip="Pay a third party from trust"),
        Binding("f", "move('refund')", "Refund", id="trust.refund", tooltip="Return trust money to the client"),
        Binding("t", "move('transfer')", "Transfer", id="trust.transfer",
                tooltip="Move a client's money between trust accounts"),
        Binding("p", "move('pay')", "Pay", id="trust.pay", tooltip="Pay one of the firm's invoices from trust"),
        Binding("a", "next_account", "Account", id="trust.account", tooltip="Show the next trust account"),
        Binding("i", "import_statement", "Import", id="trust.import", tooltip="Import a bank statement CSV"),
        Binding("m", "match", "Match", id="trust.match",
                tooltip="Match the highlighted statement line to the highlighted entry"),
        Binding("u", "unmatch", "Unmatch", id="trust.unmatch", tooltip="Undo the highlighted statement line's match"),
        Binding("o", "outstanding", "Outstanding", id="trust.outstanding",
                tooltip="Keep the highlighted entry outstanding (not cleared yet)"),
        Binding("c", "reconcile", "Reconcile", id="trust.reconcile", tooltip="Three-way reconciliation as of a date"),
        Binding("v", "reverse", "Reverse", id="trust.reverse",
                tooltip="Reverse the highlighted trust transaction (a correction: it is never edited)"),
        Binding("g", "reload", "Reload", id="trust.reload", tooltip="Read the trust ledgers again"),
        *tab_bindings("trust", TABS),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.view: TrustView | None = None
        self.account_id: int | None = None
        self.result = None  # the last Reconciliation shown

    def compose_body(self) -> ComposeResult:
        yield Static("Reading the trust ledgers…", id="trust-summary", markup=False)
        with TabbedContent(id="trust-tabs"):
            with TabPane(tab_title(1, "Balances"), id="balances"):
                yield DataTable(id="trust-ledgers", cursor_type="row", zebra_stripes=True)
            with TabPane(tab_title(2, "Matching"), id="matching"):
                yield DataTable(id="trust-lines", cursor_type="row", zebra_stripes=True)
                yield DataTable(id="trust-items", cursor_type="row", zebra_stripes=True)
            with TabPane(tab_title(3, "Reconcile"), id="reconcile"):
                with VerticalScroll(id="trust-result-box"):
                    yield Static("c reconciles the account shown above as of a date.", id="trust-result",
                                 markup=False)
            with TabPane(tab_title(4, "Transactions"), id="transactions"):
                yield DataTable(id="trust-moves", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#trust-ledgers", DataTable).add_columns("Client", "Matter", "Account", "Balance")
        self.query_one("#trust-lines", DataTable).add_columns("Line", "Date", "Amount", "Description", "Matched")
        self.query_one("#trust-items", DataTable).add_columns("Entry", "Date", "Amount", "Reference", "State")
        self.query_one("#trust-moves", DataTable).add_columns("Id", "Date", "Kind", "Client", "Amount", "State")
        self.query_one("#trust-ledgers", DataTable).focus()
        self.action_reload()

    def on_screen_resume(self) -> None:
        self.action_reload()

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The footer shows the keys of the open tab (moves on Balances, matching keys on Matching)."""
        tab = self.tab
        if action == "move":
            return tab == "balances"
        if action in MATCHING:
            return tab == "matching" or (action == "import_statement" and tab == "reconcile")
        if action == "reconcile":
            return tab == "reconcile"
        if action == "reverse":
            return tab == "transactions"
        if action == "next_account":
            return tab != "balances"
        return True

    # -- reading -----------------------------------------------------------------------------
    def action_reload(self) -> None:
        self.load(self.account_id)

    @work(thread=True, exclusive=True, group="trust-load")
    def load(self, account_id: int | None) -> None:
        from core.services import ledger
        from tui.workers import with_own_firm

        def read(firm):
            if not ledger.firm_exists(firm):
                return NO_FIRM
            accounts = [b.id for b in ledger.list_bank_accounts(firm, "trust")]
            chosen = account_id if account_id in accounts else (accounts[0] if accounts else None)
            return read_view(firm, chosen), chosen

        found = with_own_firm(self.app, read, self.app.show_error)
        if found is NO_FIRM:
            self.app.call_from_thread(self.query_one("#trust-summary", Static).update,
                                      "There is no firm yet: create it on the setup checklist (F2) first.")
        elif found is not None:
            self.app.call_from_thread(self.show_view, *found)

    def account_name(self) -> str:
        if self.view is None:
            return ""
        return next((a.name for a in self.view.accounts if a.id == self.account_id), "")

    def show_view(self, view: TrustView, account_id: int | None) -> None:
        self.view, self.account_id = view, account_id
        cur = view.ledgers.currency
        table = self.query_one("#trust-ledgers", DataTable)
        keep = table.cursor_row
        table.clear()
        for x in view.ledgers.ledgers:
            table.add_row(x.client_name, x.matter_reference or "(no matter)", x.bank_account_name,
                          amount(x.balance_minor))
        if table.row_count:
            table.move_cursor(row=min(keep, table.row_count - 1))
        same = all(a.book_minor == a.clients_minor for a in view.ledgers.accounts)
        parts = [f"{a.name} {money_text(a.book_minor)}" if a.book_minor == a.clients_minor else
                 f"{a.name}: books {money_text(a.book_minor)}, clients {money_text(a.clients_minor)} DIFFERENT"
                 for a in view.ledgers.accounts]
        if not view.accounts:
            summary = "No trust bank account: add one in Setup › Trust (F2), then r receives client money."
        else:
            shown = f"Shown (a: next): {self.account_name()}"
            if view.locked_until:
                shown += f", reconciled to {view.locked_until}"
            summary = (f"Books = client ledgers ({cur}): " if same else f"({cur}) ") + "; ".join(parts) + "\n" + shown
        self.query_one("#trust-summary", Static).update(summary)
        lines = self.query_one("#trust-lines", DataTable)
        keep_line = lines.cursor_row
        lines.clear()
        for x in view.lines:
            lines.add_row(str(x.id), x.date, amount(x.amount_minor), x.description[:24],
                          f"entry {x.entry_id}" if x.entry_id else "-", key=str(x.id))
        if lines.row_count:
            lines.move_cursor(row=min(keep_line, lines.row_count - 1))
        items = self.query_one("#trust-items", DataTable)
        keep_item = items.cursor_row
        items.clear()
        for i in view.items:
            state = f"line {i.line_id}" if i.line_id else ("outstanding*" if i.marked_outstanding else "outstanding")
            items.add_row(str(i.entry_id), i.date, amount(i.amount_minor), (i.reference or "")[:14], state,
                          key=str(i.entry_id))
        if items.row_count:
            items.move_cursor(row=min(keep_item, items.row_count - 1))
        self.show_transactions(view)

    def show_transactions(self, view: TrustView) -> None:
        names = {c.id: c.name for c in view.clients}
        table = self.query_one("#trust-moves", DataTable)
        keep = table.cursor_row
        table.clear()
        for t in view.transactions:
            sign = -1 if t.kind in ("disbursement", "refund") or (
                t.kind == "transfer" and t.bank_account_id == self.account_id) else 1
            state = f"reversed {t.reversal_date}" if t.status == "reversed" else ""
            table.add_row(str(t.id), t.date, t.kind, names.get(t.client_id, str(t.client_id))[:22],
                          amount(sign * t.amount_minor), state, key=str(t.id))
        if table.row_count:
            table.move_cursor(row=min(keep, table.row_count - 1))

    # -- forms -------------------------------------------------------------------------------
    def _ready(self) -> bool:
        if self.view is None:
            self.notify("Still reading the trust ledgers…", timeout=3)
            return False
        if not self.view.accounts:
            self.notify("Add a trust bank account first: Setup › Trust (F2).", severity="warning")
            return False
        return True

    def action_move(self, kind: str) -> None:
        from tui.screens.trust_forms import move_form, pay_form

        if not self._ready():
            return
        today = self.app.today().isoformat()
        if kind == "pay":
            if not self.view.invoices:
                self.notify("There is no open invoice to pay from trust.", severity="warning")
                return
            modal = pay_form(list(self.view.invoices), list(self.view.accounts), today, self.account_id)
        else:
            if not self.view.clients:
                self.notify("Add a client first (Billing, F5, k).", severity="warning")
                return
            if kind == "transfer" and len(self.view.accounts) < 2:
                self.notify("A transfer needs two trust bank accounts: add another in Setup › Trust.",
                            severity="warning")
                return
            modal = move_form(kind, list(self.view.clients), list(self.view.accounts), today, self.account_id)
        self.app.push_screen(modal, self.posted)

    def posted(self, result) -> None:
        if result is None:
            return
        kind = getattr(result, "kind", None) or ("payment" if hasattr(result, "allocations") else None)
        if hasattr(result, "lines") and hasattr(result, "matched"):
            self.notify(f"Imported {result.lines} lines: {result.matched} matched, {result.unmatched} to match.")
        elif hasattr(result, "adjusted_bank_minor"):
            self.show_result(result)
        elif getattr(result, "status", None) == "reversed":
            self.notify(f"Trust {kind} {result.id} reversed on {result.reversal_date}.")
        elif kind:
            self.notify(f"Trust {kind} {money_text(result.amount_minor)} recorded.")
        self.action_reload()

    def action_next_account(self) -> None:
        if self.view is None or not self.view.accounts:
            return
        ids = [a.id for a in self.view.accounts]
        here = ids.index(self.account_id) if self.account_id in ids else -1
        self.load(ids[(here + 1) % len(ids)])

    def action_import_statement(self) -> None:
        from tui.screens.trust_forms import import_form

        if self._ready():
            self.app.push_screen(import_form(list(self.view.accounts), self.account_id), self.posted)

    def action_reconcile(self) -> None:
        from tui.screens.trust_forms import reconcile_form

        if self._ready():
            self.app.push_screen(reconcile_form(self.account_id, self.account_name(),
                                                self.app.today().isoformat()), self.posted)

    def show_result(self, rec) -> None:
        from core.services.trust import render_difference as render

        self.result = rec
        m = money_text
        head = (f"{'RECONCILED' if rec.ok else 'DOES NOT BALANCE'}: {rec.account} as of {rec.as_of}"
                + (f" (saved, period locked)" if rec.saved_id else ""))
        glance = (f"(1) bank {m(rec.adjusted_bank_minor)}  (2) books {m(rec.book_minor)}  "
                  f"(3) clients {m(rec.clients_minor)}")
        detail = [f"statement {m(rec.statement_minor)} + deposits {m(rec.deposits_minor)} - cheques "
                  f"{m(rec.cheques_minor)}",
                  f"{len(rec.outstanding_deposits) + len(rec.outstanding_cheques)} outstanding, "
                  f"{len(rec.unmatched_lines)} unmatched statement lines"]
        detail += [f"- {render(d, rec.currency)}" for d in rec.differences]
        detail += [f"  outstanding {i.date} entry {i.entry_id} {m(i.amount_minor)} {i.reference or ''}"
                   for i in rec.outstanding_deposits + rec.outstanding_cheques]
        widget = self.query_one("#trust-result", Static)
        widget.update("\n".join([head, glance, *detail]))
        widget.set_class(not rec.ok, "-bad")
        self.show_tab("reconcile")

    def action_reverse(self) -> None:
        from tui.screens.trust_forms import reverse_form

        if not self._ready():
            return
        tid = self._highlighted("#trust-moves")
        found = next((t for t in self.view.transactions if t.id == tid), None)
        if found is None:
            self.notify("Highlight a trust transaction first.", severity="warning")
            return
        if found.status == "reversed":
            self.notify(f"Trust {found.kind} {found.id} was already reversed on {found.reversal_date}.",
                        severity="warning")
            return
        client = next((c.name for c in self.view.clients if c.id == found.client_id), str(found.client_id))
        accounts = {a.id: a.name for a in self.view.accounts}
        today = max(self.app.today().isoformat(), found.date)
        self.app.push_screen(reverse_form(found, client, accounts, today), self.posted)

    # -- matching ----------------------------------------------------------------------------
    def _highlighted(self, table_id: str) -> int | None:
        table = self.query_one(table_id, DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return int(key) if key is not None else None

    def action_match(self) -> None:
        line, entry = self._highlighted("#trust-lines"), self._highlighted("#trust-items")
        if line is None or entry is None:
            self.notify("Highlight a statement line and a ledger entry first.", severity="warning")
            return
        self.change("match", line, entry)

    def action_unmatch(self) -> None:
        line = self._highlighted("#trust-lines")
        if line is not None:
            self.change("unmatch", line)

    def action_outstanding(self) -> None:
        entry = self._highlighted("#trust-items")
        if entry is not None:
            self.change("outstanding", entry)

    @work(thread=True, exclusive=True, group="trust-change")
    def change(self, what: str, *ids: int) -> None:
        from core.services import trust as S
        from tui.workers import with_own_firm

        account = self.account_id
        calls = {"match": lambda firm: S.match(firm, account, *ids),
                 "unmatch": lambda firm: S.unmatch(firm, account, *ids),
                 "outstanding": lambda firm: S.mark_outstanding(firm, account, *ids)}

        def run(firm):
            calls[what](firm)
            return True

        if with_own_firm(self.app, run, self.app.show_error):
            self.app.call_from_thread(self.load, account)
