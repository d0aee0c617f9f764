"""The help screen (? or F1): every binding active where it was opened, and the global ones."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Static


@dataclass(frozen=True)
class HelpRow:
    key: str
    description: str
    where: str


def collect_bindings(screen: Screen) -> list[HelpRow]:
    """Every binding reachable from `screen`'s focus chain, the screen itself and the app, in that order."""
    rows: list[tuple[int, HelpRow]] = []
    seen: set[tuple[str, str]] = set()
    app = screen.app
    for key, active in screen.active_bindings.items():
        binding = active.binding
        description = binding.description or binding.tooltip or binding.action
        if (binding.action, key) in seen or binding.action.startswith("_"):
            continue
        seen.add((binding.action, key))
        if active.node is app:
            where, rank = "everywhere", 1
        elif active.node is screen:
            where, rank = "this screen", 0
        else:
            where, rank = type(active.node).__name__, 2
        rows.append((rank, HelpRow(app.get_key_display(binding), description, where)))
    rows.sort(key=lambda r: r[0])  # this screen's keys, then the global ones, then the focused widget's
    return [row for _, row in rows]


class HelpTable(DataTable):
    """Home and End go to the first and last binding (DataTable's own go to the first and last column)."""

    BINDINGS = [Binding("home", "scroll_top", "First", show=False), Binding("end", "scroll_bottom", "Last", show=False)]


class HelpScreen(ModalScreen[None]):
    """A table of key, what it does and where it works; Escape closes it."""

    CSS_PATH = "help.tcss"
    BINDINGS = [Binding("escape,q,f1,question_mark", "dismiss_help", "Close help", id="help.close")]

    def __init__(self, rows: list[HelpRow], title: str) -> None:
        super().__init__()
        self.rows = rows
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Static(f"Keys: {self.title_text}", id="help-title")
            yield HelpTable(id="help-table", cursor_type="row", zebra_stripes=True)
            yield Static("Ctrl+P opens the command palette: every action is there too.  Esc closes.",
                         id="help-hint")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Key", "Action", "Where")
        for row in self.rows:
            table.add_row(row.key, row.description, row.where)
        table.focus()

    def action_dismiss_help(self) -> None:
        self.dismiss(None)
