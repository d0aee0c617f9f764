"""The first screen painted: the header and a spinner while the firm database is opened and checked
in a worker (the heavy imports of core happen there too, off the event loop)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import LoadingIndicator, Static

from tui.screens.base import LedgerScreen


class OpeningScreen(LedgerScreen):
    """Replaced by the setup checklist (new firm) or the sync monitor (finished set-up) once checked."""

    CSS_PATH = "opening.tcss"

    def __init__(self, database: str) -> None:
        super().__init__()
        self.database = database

    def compose_body(self) -> ComposeResult:
        yield Static(f"Opening {self.database} and checking the set-up…", id="opening-text", markup=False)
        yield LoadingIndicator()
