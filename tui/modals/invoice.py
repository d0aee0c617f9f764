"""New or edited invoice: client, matter, dates and terms, and a grid of lines, checked against the ledger's own
rules as you type. The fields under the grid edit one line: a new one (appended, or inserted above the
highlighted row) or the row Enter picked; each line's tax rate is chosen for that line, never carried over."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Label, Select, Static
from textual.widgets.select import InvalidSelectValueError

from core.errors import LedgerlinkError
from core.services import ledger
from core.text import counted
from tui.widgets.footer import KeyFooter
from tui.format import money_text, plain_amount
from tui.modals.confirm import ConfirmModal
from tui.modals.form import problem_text
from tui.widgets.text_input import TextInput

EDIT_NOTICE = "Saving replaces the invoice in the ledger and sends the change to QuickBooks Online."
NEW_NOTICE = "Saving posts the invoice and queues it for QuickBooks Online."
TERMS = (("Due on receipt", 0), ("Net 7", 7), ("Net 14", 14), ("Net 30", 30), ("Net 60", 60))
NO_MATTER = -1


class LinesTable(DataTable):
    """The invoice's lines: Enter edits the highlighted one, Delete drops it, Ctrl+Up/Down move it, Insert
    writes a new line above it."""

    BINDINGS = [
        Binding("enter", "screen.edit_line", "Edit line", id="invoice.edit_line", tooltip="Edit this line below"),
        Binding("delete", "screen.drop_line", "Drop line", id="invoice.delete_line", show=False,
                tooltip="Remove the highlighted line"),
        Binding("ctrl+up", "screen.move_line(-1)", "Line up", id="invoice.line_up", tooltip="Move the line up"),
        Binding("ctrl+down", "screen.move_line(1)", "Line down", id="invoice.line_down",
                tooltip="Move the line down"),
        Binding("insert", "screen.insert_line", "Insert line", id="invoice.insert_line",
                tooltip="Write a new line above the highlighted one"),
        Binding("home", "scroll_top", "First line", show=False),
        Binding("end", "scroll_bottom", "Last line", show=False),
    ]


class InvoiceModal(ModalScreen[object]):
    """Ctrl+L adds (or updates) the line being typed, Ctrl+D drops a line, Ctrl+S saves, Escape cancels."""

    CSS_PATH = "invoice.tcss"
    BINDINGS = [
        Binding("ctrl+l", "add_line", "Add line", id="invoice.add_line", tooltip="Add the line being typed"),
        Binding("ctrl+d", "drop_line", "Drop line", id="invoice.drop_line", priority=True,
                tooltip="Remove the line being edited, the highlighted one, or the last"),
        Binding("ctrl+s", "save", "Save", id="invoice.save", tooltip="Post the invoice"),
        Binding("ctrl+r", "preview", "Preview", id="invoice.preview",
                tooltip="The invoice as the client would see it once saved"),
        Binding("escape", "cancel", "Cancel", id="invoice.cancel", tooltip="Close without saving"),
    ]

    def __init__(self, firm, invoice=None) -> None:
        super().__init__()
        self.firm = firm
        self.invoice = invoice
        self.lines: list[dict] = []
        self.editing: int | None = None
        """The index of the line the fields below the grid edit; None for a new line."""
        self.insert_at: int | None = None
        """Where a new line goes (None: at the end)."""
        if invoice is not None:
            self.lines = [{"description": l.description, "account_id": l.account_id, "tax_rate_id": l.tax_rate_id,
                           "quantity": quantity_text(l.quantity), "unit_price": plain_amount(l.unit_price_minor)}
                          for l in invoice.lines]
        self.rates = {r.id: r for r in ledger.list_tax_rates(firm)}
        self.active_rates = [r.id for r in ledger.list_tax_rates(firm, active_only=True)]
        self.codes = {a.id: a.code for a in ledger.list_accounts(firm)}

    def compose(self) -> ComposeResult:
        clients = [(c.name, c.id) for c in ledger.list_clients(self.firm)]
        kept = {line["account_id"] for line in self.lines}  # an edited invoice keeps an account made inactive since
        accounts = [(a.label, a.id) for a in ledger.list_accounts(self.firm, types=["Income", "Other Income"])
                    if a.active or a.id in kept]
        rates = [(r.name, r.id) for r in ledger.list_tax_rates(self.firm, active_only=True)]
        inv = self.invoice
        title = f"Edit invoice {inv.number}" if inv else "New invoice"
        with VerticalScroll(id="invoice-box", can_focus=False):
            yield Label(title, id="invoice-title", markup=False)
            yield Static(EDIT_NOTICE if inv else NEW_NOTICE, id="invoice-notice")
            with Horizontal(classes="row"):
                yield Select(clients, prompt="Client", id="client", disabled=inv is not None,
                             value=inv.client_id if inv else Select.NULL)
                yield Select(self.matter_options(inv.client_id if inv else None), prompt="Matter", id="matter",
                             allow_blank=False, value=(inv.matter_id or NO_MATTER) if inv else NO_MATTER)
            with Horizontal(classes="row"):
                yield TextInput(inv.date if inv else self.app.today().isoformat(), placeholder="Date YYYY-MM-DD",
                                id="date")
                yield TextInput(inv.due_date if inv else "", placeholder="Due (+30 days)", id="due")
                yield Select(TERMS, prompt="Terms", id="terms")
            yield LinesTable(id="lines", cursor_type="row")
            yield Label("New line (Ctrl+L adds it):", id="line-hint", classes="hint")
            with Horizontal(classes="row"):
                yield TextInput(placeholder="Description", id="description")
                yield TextInput("1", placeholder="Qty", id="quantity")
                yield TextInput(placeholder="Unit price", id="unit_price")
            with Horizontal(classes="row"):
                yield Select(accounts, prompt="Income account", id="account", value=accounts[0][1] if accounts
                             else Select.NULL)
                yield Select(rates, prompt="Tax rate", id="tax")
            yield Static("", id="invoice-problems", markup=False)
            yield Static("", id="invoice-total", markup=False)
        yield KeyFooter()

    def matter_options(self, client_id) -> list[tuple[str, int]]:
        matters = ledger.list_matters(self.firm, client_id) if client_id else []
        keep = self.invoice.matter_id if self.invoice else None
        return [("No matter", NO_MATTER)] + [(f"{m.reference} {m.name}", m.id) for m in matters
                                             if m.open or m.id == keep]

    def on_mount(self) -> None:
        table = self.query_one("#lines", DataTable)
        table.add_columns("#", "Description", "Account", "Qty", "Price", "Tax", "Amount")
        for field in self.query(Input):
            if getattr(self.app, "still", False):
                field.cursor_blink = False
        self.redraw()
        self.first_empty_field().focus()
        self.opened_with = self.draft()  # Escape asks first when anything typed since would be lost

    def first_empty_field(self):
        """Focus starts on the first field still to fill, never on a filled one with its text selected."""
        if self.query_one("#client", Select).value is Select.NULL:
            return self.query_one("#client", Select)
        return self.query_one("#description", Input)

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

    def line_at(self) -> int:
        """The index the typed line takes in the invoice."""
        if self.editing is not None:
            return self.editing
        return len(self.lines) if self.insert_at is None else self.insert_at

    def draft(self, with_typed: bool = True) -> dict:
        client = self.query_one("#client", Select).value
        matter = self.query_one("#matter", Select).value
        lines = list(self.lines)
        typed = self.typed_line() if with_typed else None
        if typed is not None:
            if self.editing is not None:
                lines[self.editing] = typed
            else:
                lines.insert(self.line_at(), typed)
        return {"client_id": None if client is Select.NULL else client,
                "matter_id": None if matter in (Select.NULL, NO_MATTER) else matter,
                "date": self.query_one("#date", Input).value.strip(),
                "due_date": self.query_one("#due", Input).value.strip() or None, "lines": lines}

    def checked(self, draft: dict) -> ledger.InvoiceCheck:
        """core's check of the draft; a line without a tax rate is priced by no rate (its own problem says to
        choose one) but checked for everything else."""
        untaxed = [n for n, line in enumerate(draft["lines"], 1) if line.get("tax_rate_id") is None]
        spec = dict(draft)
        mine = [f"line {n}: choose its tax rate (each line has its own)" for n in untaxed]
        if draft["client_id"] is None:
            mine.insert(0, "client: choose the client")
            spec.update(client_id=0, matter_id=None)
        stand_in = next(iter(self.active_rates), None)
        if untaxed and stand_in is not None:
            spec["lines"] = [l if l.get("tax_rate_id") is not None else {**l, "tax_rate_id": stand_in}
                             for l in draft["lines"]]
        result = ledger.check_invoice(self.firm, **spec)
        theirs = result.problems
        if untaxed:  # the totals leave out the lines without a rate
            result = ledger.check_invoice(self.firm, **{**spec, "lines": [
                l for l in draft["lines"] if l.get("tax_rate_id") is not None]})
        if draft["client_id"] is None:
            theirs = [p for p in theirs if not p.startswith("client")]
        return replace(result, problems=mine + theirs)

    def problems(self, with_typed: bool = True) -> list[str]:
        return self.checked(self.draft(with_typed)).problems

    def redraw(self) -> None:
        table = self.query_one("#lines", DataTable)
        keep = table.cursor_row
        table.clear()
        for n, line in enumerate(self.lines, 1):
            rate = self.rates.get(line["tax_rate_id"])
            one = ledger.check_invoice(self.firm, lines=[line], client_id=0)
            mark = "›" if self.editing == n - 1 else str(n)
            table.add_row(mark, line["description"], self.codes.get(line["account_id"], "?"), str(line["quantity"]),
                          str(line["unit_price"]), rate.name if rate else "?",
                          money_text(one.net_minor) if one.priced_lines else "?", key=str(n))
        if table.row_count:
            table.move_cursor(row=min(keep, table.row_count - 1))
        table.can_focus = bool(self.lines)  # an empty table is no Tab stop between the terms and the new line
        if self.editing is not None:
            hint = f"Line {self.editing + 1}: Ctrl+L updates it, Ctrl+D drops it:"
        elif self.insert_at is not None:
            hint = f"New line {self.insert_at + 1}: Ctrl+L inserts it there:"
        else:
            hint = "New line, Ctrl+L adds it. Grid: Enter edits, Del drops, ^Up/^Down move:"
        self.query_one("#line-hint", Label).update(hint)
        self.check()

    def check(self) -> None:
        draft = self.draft()
        result = self.checked(draft)
        box = self.query_one("#invoice-problems", Static)
        box.update("\n".join(result.problems) if result.problems else "No problems: Ctrl+S saves.")
        box.set_class(bool(result.problems), "-bad")
        left_out = len(draft["lines"]) - result.priced_lines
        text = ""
        if draft["lines"]:
            text = (f"Net {money_text(result.net_minor)} + tax {money_text(result.tax_minor)} = "
                    f"total {money_text(result.total_minor)}"
                    + (f" (without {counted(left_out, 'line')} with a problem)" if left_out else ""))
            if len(result.by_rate) > 1 or (result.by_rate and result.tax_minor):
                text += "\n" + "; ".join(
                    f"{self.rates[r].name if r in self.rates else r}: {money_text(t)} on {money_text(n)}"
                    for r, n, t in result.by_rate)
            if result.due_date:
                text += f"\nDue {result.due_date}"
        self.query_one("#invoice-total", Static).update(text)

    def on_input_changed(self) -> None:
        self.check()

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "client":
            matter = self.query_one("#matter", Select)
            matter.set_options(self.matter_options(None if event.value is Select.NULL else event.value))
            matter.value = NO_MATTER
        elif event.select.id == "terms" and event.value is not Select.NULL:
            try:
                start = dt.date.fromisoformat(self.query_one("#date", Input).value.strip())
            except ValueError:
                self.notify("Type the invoice date first: the terms count from it.", severity="warning")
                return
            self.query_one("#due", Input).value = (start + dt.timedelta(days=event.value)).isoformat()
        self.check()

    # -- line actions -------------------------------------------------------------------------
    def set_editor(self, line: dict | None) -> None:
        line = line or {}
        self.query_one("#description", Input).value = line.get("description", "")
        self.query_one("#quantity", Input).value = str(line.get("quantity", "1"))
        self.query_one("#unit_price", Input).value = str(line.get("unit_price", ""))
        if line.get("account_id") is not None:
            self.query_one("#account", Select).value = line["account_id"]
        tax = self.query_one("#tax", Select)
        tax.clear()
        if line.get("tax_rate_id") is not None:
            try:
                tax.value = line["tax_rate_id"]
            except InvalidSelectValueError:  # an inactive rate: choose another
                pass

    def action_add_line(self) -> None:
        typed = self.typed_line()
        if typed is None:
            self.notify("Type a description and a unit price first.", severity="warning")
            return
        at = self.line_at()
        problems = [p for p in self.problems() if p.startswith(f"line {at + 1}:")]
        if problems:
            self.notify("\n".join(problems), title="Line not added", severity="error", markup=False)
            return
        if self.editing is not None:
            self.lines[self.editing] = typed
        else:
            self.lines.insert(at, typed)
        self.editing = self.insert_at = None
        self.set_editor(None)
        self.query_one("#lines", DataTable).move_cursor(row=at)
        self.query_one("#description", Input).focus()
        self.redraw()

    def highlighted_line(self) -> int | None:
        table = self.query_one("#lines", DataTable)
        return table.cursor_row if self.lines and table.row_count else None

    def action_edit_line(self) -> None:
        index = self.highlighted_line()
        if index is None:
            return
        self.editing, self.insert_at = index, None
        self.set_editor(self.lines[index])
        self.query_one("#description", Input).focus()
        self.redraw()

    def action_insert_line(self) -> None:
        index = self.highlighted_line()
        self.editing, self.insert_at = None, index
        self.set_editor(None)
        self.query_one("#description", Input).focus()
        self.redraw()

    def action_drop_line(self) -> None:
        if not self.lines:
            return
        if self.editing is not None:
            index = self.editing
            self.set_editor(None)
        elif self.query_one("#lines", DataTable).has_focus:
            index = self.highlighted_line()
        else:
            index = len(self.lines) - 1
        dropped = self.lines.pop(index)
        self.editing = self.insert_at = None
        self.notify(f"Line {index + 1} ({dropped['description'] or 'no description'}) dropped.", markup=False)
        self.redraw()

    def action_move_line(self, step: int) -> None:
        index = self.highlighted_line()
        if index is None or not 0 <= index + step < len(self.lines) or self.editing is not None:
            return
        self.lines[index], self.lines[index + step] = self.lines[index + step], self.lines[index]
        self.query_one("#lines", DataTable).move_cursor(row=index + step)
        self.redraw()

    # -- save and leave -----------------------------------------------------------------------
    def action_preview(self) -> None:
        from tui.modals.preview import open_preview, preview_service

        draft = self.draft()
        problems = self.checked(draft).problems
        if problems:
            self.notify("Nothing to preview yet: " + problems[0], severity="warning", markup=False)
            return
        invoice_id = self.invoice.id if self.invoice else None
        open_preview(self, lambda firm: preview_service.draft_preview(firm, invoice_id=invoice_id, **draft))

    def action_save(self) -> None:
        draft = self.draft()
        problems = self.checked(draft).problems
        try:
            if problems:
                from core.errors import ValidationError

                raise ValidationError(problems[0] if len(problems) == 1 else
                                      f"{len(problems)} problems: {problems[0]}", problems)
            if self.invoice is None:
                result = ledger.create_invoice(self.firm, client_id=draft["client_id"], date=draft["date"],
                                               lines=draft["lines"], matter_id=draft["matter_id"],
                                               due_date=draft["due_date"])
            else:
                result = ledger.edit_invoice(self.firm, self.invoice.id, date=draft["date"], lines=draft["lines"],
                                             due_date=draft["due_date"], matter_id=draft["matter_id"])
        except LedgerlinkError as exc:
            box = self.query_one("#invoice-problems", Static)
            box.update(problem_text(exc))
            box.add_class("-bad")
            return
        self.notify(f"Invoice {result.number} saved: {money_text(result.total_minor)} {result.currency}.")
        self.dismiss(result)

    def unsaved_text(self) -> str:
        """What Escape or Ctrl+Q would drop ("" when nothing was typed since the form opened)."""
        if not self.is_mounted or self.draft() == getattr(self, "opened_with", None):
            return ""
        return "this new invoice" if self.invoice is None else f"the changes to {self.invoice.number}"

    def action_cancel(self) -> None:
        if self.editing is not None or self.insert_at is not None:
            if self.typed_line() is None or self.editing is not None and self.typed_line() == self.lines[self.editing]:
                self.editing = self.insert_at = None  # Esc leaves the line editor first
                self.set_editor(None)
                self.redraw()
                return
        what = self.unsaved_text()
        if not what:
            self.dismiss(None)
            return
        self.app.push_screen(ConfirmModal(f"Leave without saving {what}? What you typed is lost.", "Leave"),
                             self.leave)

    def leave(self, yes: bool) -> None:
        if yes:
            self.dismiss(None)  # not returned: Textual would await it from this screen's own handler, and hang


def quantity_text(quantity) -> str:
    """A line's quantity as typed (2, not 2.000)."""
    text = str(quantity)
    return text.rstrip("0").rstrip(".") if "." in text else text
