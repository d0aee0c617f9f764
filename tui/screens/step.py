"""The frame of one checklist step's screen: title, what the step needs, its state, and a way back."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Label, Static

from core.checks import TITLES, StepResult
from core.errors import LedgerlinkError
from core.services import setup as setup_service
from tui.modals.form import problem_text
from tui.screens.base import LedgerScreen

STATE_WORDS = {"done": "Done", "missing": "To do", "warning": "Check"}


class StepScreen(LedgerScreen):
    """Subclasses set STEP_IDS and INTRO and compose their own body below the step state."""

    STEP_IDS: tuple[str, ...] = ()
    PLACE = ""
    """The name the checklist's messages use for this screen ("Setup › Trust")."""
    INTRO = ""
    BINDINGS = [Binding("escape", "back", "Back", id="step.back", tooltip="Back to the setup checklist")]

    def compose_body(self) -> ComposeResult:
        title = TITLES[self.STEP_IDS[0]] if self.STEP_IDS else ""
        yield Label(f"Setup › {self.PLACE}: {title}" if self.PLACE else title, classes="step-title", markup=False)
        if self.INTRO:
            yield Static(self.INTRO, classes="step-intro")
        yield Static("", classes="step-state")
        yield from self.compose_step()

    def compose_step(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        super().on_mount()
        self.refresh_step()

    def refresh_step(self) -> None:
        """Re-read this step's state from core and let the subclass redraw its data."""
        results: list[StepResult] = [s for s in setup_service.checklist(self.firm) if s.id in self.STEP_IDS]
        lines: list[str] = []
        for step in results:
            here = step.code != "needs_firm"  # this screen is where the step is fixed
            line = f"{STATE_WORDS[step.state]}: {step.text(command=False, place=not here)}"
            if lines and step.code == "needs_firm":
                continue  # the line above already says how to make the firm
            if line not in lines:
                lines.append(line)
        state = self.query_one(".step-state", Static)
        state.update(Text("\n".join(lines)))
        state.set_class(all(s.ok for s in results), "-ok")
        self.refresh_data()
        self.app.refresh_header()

    def refresh_data(self) -> None:
        """Subclasses re-read what they list."""

    def attempt(self, fn, *args, **kwargs) -> bool:
        """Run a core write; on a LedgerlinkError show core's message and return False."""
        try:
            fn(*args, **kwargs)
        except LedgerlinkError as exc:
            self.notify(problem_text(exc), title="Not saved", severity="error", timeout=8, markup=False)
            return False
        self.refresh_step()
        return True

    def after_form(self, result: object) -> None:
        """Callback for a FormModal: refresh when something was saved."""
        if result is not None:
            self.refresh_step()

    def action_back(self) -> None:
        self.app.pop_screen()
