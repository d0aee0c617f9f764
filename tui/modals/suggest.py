"""Suggested mappings: accept them one by one (Enter) or all at once (A)."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from core.errors import LedgerlinkError
from core.text import counted
from tui.widgets.footer import KeyFooter
from tui.modals.form import problem_text


class SuggestTable(DataTable):
    """The suggestions; Enter accepts the highlighted one (DataTable's own Enter only selects the row)."""

    BINDINGS = [Binding("enter", "screen.accept_one", "Accept", id="suggest.one",
                        tooltip="Accept the highlighted suggestion")]


class SuggestModal(ModalScreen[int]):
    """Each suggestion with its score; dismisses with how many were accepted."""

    CSS_PATH = "suggest.tcss"
    BINDINGS = [
        Binding("A", "accept_all", "Accept all", id="suggest.all", tooltip="Accept every suggestion shown"),
        Binding("escape", "close", "Close", id="suggest.close", tooltip="Close; accepted ones stay"),
    ]

    def __init__(self, suggestions, accept: Callable[[list], int]) -> None:
        super().__init__()
        self.suggestions = list(suggestions)
        self.accept = accept
        self.accepted = 0

    def compose(self) -> ComposeResult:
        with Vertical(id="suggest-box"):
            yield Label("", id="suggest-title")
            yield SuggestTable(id="suggest-table", cursor_type="row")
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Ledger", "QBO", "Match")
        self.redraw()
        table.focus()

    def redraw(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for s in self.suggestions:
            table.add_row(s.ledger_name, s.qbo_name, f"{round(s.score * 100)}%")
        self.query_one("#suggest-title", Label).update(
            f"{counted(len(self.suggestions), 'suggestion')}: Enter accepts one, A accepts all ({self.accepted} accepted)")

    def take(self, chosen: list) -> None:
        try:
            self.accepted += self.accept(chosen)
        except LedgerlinkError as exc:
            self.notify(problem_text(exc), severity="error", markup=False)
            return
        self.suggestions = [s for s in self.suggestions if s not in chosen]
        if not self.suggestions:
            self.dismiss(self.accepted)
            return
        self.redraw()

    def action_accept_one(self) -> None:
        table = self.query_one(DataTable)
        if self.suggestions:
            self.take([self.suggestions[min(table.cursor_row, len(self.suggestions) - 1)]])

    def action_accept_all(self) -> None:
        self.take(list(self.suggestions))

    def action_close(self) -> None:
        self.dismiss(self.accepted)
