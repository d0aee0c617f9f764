"""Choose one row from a long filterable list (a ledger account, a QBO account or tax code).

Rows that cannot be chosen are struck through; choosing one shows why instead of closing.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from tui.widgets.footer import KeyFooter
from tui.widgets.text_input import TextInput
from tui.widgets.vlist import Row, VirtualList


class PickerModal(ModalScreen[str | None]):
    """Type to filter, arrows to move, Enter to choose; Escape cancels with None."""

    CSS_PATH = "picker.tcss"
    BINDINGS = [
        Binding("enter", "choose", "Choose", id="picker.choose", tooltip="Choose the highlighted row", priority=True),
        Binding("escape", "cancel", "Cancel", id="picker.cancel", tooltip="Close without choosing"),
        Binding("down", "move(1)", "Down", show=False, priority=True),
        Binding("up", "move(-1)", "Up", show=False, priority=True),
    ]

    def __init__(self, title: str, rows: list[Row], reasons: dict[str, str] | None = None) -> None:
        super().__init__()
        self.picker_title = title
        self.rows = rows
        self.reasons = reasons or {}

    def compose(self) -> ComposeResult:
        with Vertical(id="picker-box"):
            yield Label(self.picker_title, id="picker-title", markup=False)
            yield TextInput(placeholder="Type to filter", id="picker-filter")
            yield VirtualList(id="picker-list", empty_text="Nothing matches the filter")
            yield Static("", id="picker-reason", markup=False)
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one(VirtualList).set_rows(self.rows)
        field = self.query_one(Input)
        if getattr(self.app, "still", False):
            field.cursor_blink = False
        field.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_one(VirtualList).filter(event.value)

    def action_move(self, delta: int) -> None:
        self.query_one(VirtualList).cursor += delta

    def on_virtual_list_highlighted(self, event: VirtualList.Highlighted) -> None:
        row = event.row
        self.query_one("#picker-reason", Static).update(self.reasons.get(row.key, "") if row else "")

    def action_choose(self) -> None:
        row = self.query_one(VirtualList).current
        if row is None:
            return
        if row.struck:
            reason = self.reasons.get(row.key) or row.note or "This one cannot be chosen."
            self.query_one("#picker-reason", Static).update(reason)  # no toast: at 80x24 it would cover this line
            self.app.bell()
            return
        self.dismiss(row.key)

    def action_cancel(self) -> None:
        self.dismiss(None)
