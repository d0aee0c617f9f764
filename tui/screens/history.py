"""The sync history (h on the sync monitor): every document the sync has touched, its last request, who ran
it, QBO's id and its state; `/` searches by number or client, Enter opens the document's own history (each
request and each park reason: parked, why, retried, resolved)."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Input, Label, Static

from core.services import history
from core.text import neutralise
from tui.format import clipped
from tui.screens.base import LedgerScreen
from tui.widgets.text_input import TextInput
from tui.workers import with_own_firm

SHOWN = 500  # rows in the list; a search reaches every document

SHORT = {"invoice": "", "credit_note": "", "payment": "Pmt ", "trust": "Trust ", "trust_payment": "TrustPmt "}


def cell(text: str | None, width: int | None = None) -> Text:
    """Client-supplied text as a table cell: control characters shown as escapes, never read as markup."""
    value = neutralise(text or "")
    return Text(clipped(value, width) if width else value, no_wrap=True)


def when(at: str | None) -> str:
    """'2026-12-07T20:30:36.09Z' -> '12-07 20:30' (the year is in the detail)."""
    return f"{at[5:10]} {at[11:16]}" if at and len(at) >= 16 else (at or "")


def doc_name(row: history.DocRow) -> str:
    return SHORT.get(row.doc_type, "") + row.number


class HistoryTable(DataTable):
    BINDINGS = [Binding("enter", "select_cursor", "Open", id="history.open", tooltip="This document's history")]


class SyncHistoryScreen(LedgerScreen):
    """What was pushed when, by whom; Escape goes back to the monitor."""

    CSS_PATH = "history.tcss"
    HELP_TITLE = "Sync history"
    BINDINGS = [
        Binding("escape", "back", "Back", id="history.back", tooltip="Back to the sync monitor"),
        Binding("slash", "search", "Search", id="history.search", tooltip="Search by document number or client"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[history.DocRow] = []
        self.search_text = ""

    def compose_body(self) -> ComposeResult:
        yield Label("Sync history", classes="step-title")
        yield HistoryTable(id="history-table", cursor_type="row", zebra_stripes=True)
        yield TextInput(placeholder="/ search: document number or client (Enter keeps it, Esc clears)",
                        id="history-search")
        yield Static("Reading the sync history…", id="history-note", markup=False)

    def on_mount(self) -> None:
        super().on_mount()
        wide = max(0, self.app.size.width - 80)
        self.widths = {"client": 12 + wide // 2, "who": 11 + wide - wide // 2}
        self.query_one("#history-table", DataTable).add_columns("When", "Document", "Client", "Op", "QBO", "State",
                                                                "By")
        self.query_one("#history-search", Input).display = False
        self.query_one("#history-table", DataTable).focus()
        self.load()

    def on_screen_resume(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="history")
    def load(self) -> None:
        search = self.search_text
        rows = with_own_firm(self.app, lambda firm: history.documents(firm, search=search, limit=SHOWN + 1),
                             self.app.show_error)
        if rows is not None:
            self.app.call_from_thread(self.show_rows, rows, search)

    def show_rows(self, rows: list[history.DocRow], search: str) -> None:
        more = len(rows) > SHOWN
        rows = rows[:SHOWN]
        self.rows = rows
        table = self.query_one("#history-table", DataTable)
        keep = table.cursor_row
        table.clear()
        for r in rows:
            table.add_row(when(r.last_at), cell(doc_name(r), 16), cell(r.client, self.widths["client"]),
                          r.operation or "-", r.qbo_id or "-", r.state or "-", cell(r.who, self.widths["who"]),
                          key=f"{r.doc_type}:{r.doc_id}")
        if table.row_count:
            table.move_cursor(row=min(keep, table.row_count - 1))
        if more:
            note = f"The newest {SHOWN} shown: / searches them all by number or client."
        elif search:
            note = f"{len(rows)} with \"{neutralise(search)}\": / to change, Esc in the search clears it."
        elif rows:
            note = f"{len(rows)} documents. Enter opens one's history; / searches by number or client."
        else:
            note = "Nothing has been sent to QuickBooks or parked yet."
        self.query_one("#history-note", Static).update(note)

    def highlighted(self) -> history.DocRow | None:
        table = self.query_one("#history-table", DataTable)
        if not self.rows or not table.row_count:
            return None
        return self.rows[min(table.cursor_row, len(self.rows) - 1)]

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        row = self.highlighted()
        if row is not None:
            self.app.push_screen(DocHistoryScreen(row.doc_type, row.doc_id))

    def action_search(self) -> None:
        field = self.query_one("#history-search", Input)
        field.display = True
        field.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "history-search":
            self.search_text = event.value.strip()
            self.load()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "history-search":
            event.stop()
            self.query_one("#history-table").focus()

    def on_key(self, event) -> None:
        field = self.query_one("#history-search", Input)
        if event.key == "escape" and field.has_focus:
            event.stop()
            field.value = ""
            field.display = False
            self.query_one("#history-table").focus()

    def action_back(self) -> None:
        self.app.pop_screen()


class DocHistoryScreen(LedgerScreen):
    """One document's history, oldest first; the highlighted entry's reason or fault is shown whole below."""

    CSS_PATH = "history.tcss"
    HELP_TITLE = "Document history"
    BINDINGS = [Binding("escape", "back", "Back", id="history.doc_back", tooltip="Back to the sync history")]

    def __init__(self, doc_type: str, doc_id: int) -> None:
        super().__init__()
        self.doc_type, self.doc_id = doc_type, doc_id
        self.entries: tuple[history.Entry, ...] = ()

    def compose_body(self) -> ComposeResult:
        yield Label("", id="doc-title", classes="step-title", markup=False)
        yield DataTable(id="doc-history", cursor_type="row", zebra_stripes=True)
        yield Static("", id="doc-detail", markup=False)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#doc-history", DataTable).add_columns("When", "By", "What", "Ver", "QBO", "Detail")
        self.query_one("#doc-history", DataTable).focus()
        self.load()

    @work(thread=True, exclusive=True, group="history")
    def load(self) -> None:
        doc = with_own_firm(self.app, lambda firm: history.document(firm, self.doc_type, self.doc_id),
                            self.app.show_error)
        if doc is not None:
            self.app.call_from_thread(self.show_doc, doc)

    def show_doc(self, doc: history.DocHistory) -> None:
        d = doc.doc
        self.entries = doc.entries
        self.query_one("#doc-title", Label).update(neutralise(
            f"{d.label} · {d.client} · QBO id {d.qbo_id or '-'} · {d.state or 'not queued'}"))
        wide = max(0, self.app.size.width - 80)
        table = self.query_one("#doc-history", DataTable)
        table.clear()
        for e in doc.entries:
            table.add_row(when(e.at), cell(e.who, 12 + wide // 3), e.what, str(e.version or ""), e.qbo_id or "",
                          cell(e.text(), 24 + wide - wide // 3))
        self.show_detail()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail()

    def show_detail(self) -> None:
        table = self.query_one("#doc-history", DataTable)
        if not self.entries:
            self.query_one("#doc-detail", Static).update("")
            return
        e = self.entries[min(table.cursor_row, len(self.entries) - 1)]
        parts = [f"{e.at[:19].replace('T', ' ')} UTC", e.who, e.what]
        if e.qbo_id:
            parts.append(f"QBO id {e.qbo_id}")
        if e.text():
            parts.append(e.text())
        self.query_one("#doc-detail", Static).update(neutralise(" · ".join(parts)))

    def action_back(self) -> None:
        self.app.pop_screen()
