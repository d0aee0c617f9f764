"""The frame every full screen shares: the firm header on top, the key hints at the bottom."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Input

from tui.widgets.header import FirmHeader


class LedgerScreen(Screen):
    """A full screen with the firm header and the footer; subclasses compose their body."""

    TITLE_TEXT = ""

    def compose(self) -> ComposeResult:
        yield FirmHeader()
        yield from self.compose_body()
        yield Footer()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        self.still_cursors()

    def still_cursors(self) -> None:
        """Snapshot runs (app.still) turn cursor blinking off so screenshots are stable."""
        if getattr(self.app, "still", False):
            for field in self.query(Input):
                field.cursor_blink = False

    @property
    def firm(self):
        return self.app.firm
