"""The first screen painted: the header and a spinner while the settings are read and the firm database is
opened and checked in a worker (the heavy imports of core happen there too, off the event loop)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import LoadingIndicator, Static

from tui.screens.base import LedgerScreen


def opening_text(database: str | None) -> str:
    if database is None:
        return "Reading the settings…"
    return f"Opening {database} and checking the set-up…"


class OpeningScreen(LedgerScreen):
    """Replaced by the setup checklist (new firm) or the sync monitor (finished set-up) once checked."""

    CSS_PATH = "opening.tcss"

    def __init__(self, database: str | None) -> None:
        super().__init__()
        self.database = database
        self.spin_every: float | None = None
        """The spinner's refresh interval while another screen covers this one."""

    def compose_body(self) -> ComposeResult:
        yield Static(opening_text(self.database), id="opening-text", markup=False)
        yield LoadingIndicator()

    def show_database(self, database: str) -> None:
        self.database = database
        self.query_one("#opening-text", Static).update(opening_text(database))

    def show_problem(self, message: str) -> None:
        """Opening cannot go on: say why, stop the spinner (q still quits)."""
        self.query_one("#opening-text", Static).update(message)
        self.query_one(LoadingIndicator).display = False

    def on_screen_suspend(self) -> None:
        # The opened firm's screens cover this one for the rest of the session: its spinner's timer would go on
        # waking the app 16 times a second for nothing.
        spinner = self.query_one(LoadingIndicator)
        self.spin_every, spinner.auto_refresh = spinner.auto_refresh, None

    def on_screen_resume(self) -> None:
        if self.spin_every is not None:
            self.query_one(LoadingIndicator).auto_refresh = self.spin_every
