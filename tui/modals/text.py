"""A read-only page of text in a modal (a QR code, a payload, a diff); Escape closes it."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static


class TextModal(ModalScreen[None]):
    """A title and scrollable plain text (never parsed as markup)."""

    CSS_PATH = "text.tcss"
    BINDINGS = [Binding("escape,enter", "close", "Close", id="text.close", tooltip="Close this page")]

    def __init__(self, title: str, body: str, *, wide: bool = False, note: str = "") -> None:
        super().__init__()
        self.page_title = title
        self.body = body
        self.note = note
        self.set_class(wide, "-wide")

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="text-box"):
            yield Label(self.page_title, id="text-title", markup=False)
            if self.note:
                yield Static(self.note, id="text-note", markup=False)
            yield Static(self.body, id="text-body", markup=False)

    def on_mount(self) -> None:
        self.query_one("#text-box").focus()

    def action_close(self) -> None:
        self.dismiss(None)
