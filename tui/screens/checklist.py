"""The setup checklist: every step of DESIGN.md in order, its state, core's sentence, and progress. Enter or f
goes to the step's fix (core.where.Where: the screen, its tab, on a map the row to fix)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Label, OptionList, ProgressBar
from textual.widgets.option_list import Option

from core.checks import StepResult
from core.services import setup as setup_service
from tui.screens.base import LedgerScreen

STATE_MARKS = {"done": "[done]", "missing": "[todo]", "warning": "[warn]"}
STATE_STYLES = {"done": "checklist--done", "missing": "checklist--missing", "warning": "checklist--warning"}


class StepList(OptionList):
    """The steps; Enter opens the highlighted one (shown in the footer)."""

    BINDINGS = [Binding("enter", "select", "Open step", id="checklist.open",
                        tooltip="Open the screen that fixes this step")]


class ChecklistScreen(LedgerScreen):
    """Enter opens the selected step's screen; coming back re-reads every step."""

    CSS_PATH = "checklist.tcss"
    COMPONENT_CLASSES = set(STATE_STYLES.values())
    BINDINGS = [
        Binding("n", "next_missing", "Next to do", id="checklist.next", tooltip="Jump to the first step still to do"),
        Binding("ctrl+r", "refresh_steps", "Refresh", id="checklist.refresh", tooltip="Check every step again"),
        Binding("f", "fix", "Go to fix", id="checklist.fix",
                tooltip="Open the place that fixes the highlighted step (on a map, at the row to fix)"),
    ]

    steps: list[StepResult]

    def compose_body(self) -> ComposeResult:
        yield Label("Setup checklist", id="checklist-title")
        yield Label("", id="checklist-progress-text")
        yield ProgressBar(id="checklist-progress", show_eta=False, show_percentage=False)
        yield StepList(id="checklist-steps")

    def on_mount(self) -> None:
        super().on_mount()
        self.steps = []
        self.refresh_steps()
        self.query_one(OptionList).focus()

    def on_screen_resume(self) -> None:
        self.refresh_steps()

    def _prompt(self, step: StepResult) -> Table:
        grid = Table.grid(padding=(0, 1))
        grid.add_column(width=6, no_wrap=True)
        grid.add_column(ratio=1)
        mark = Text(STATE_MARKS[step.state], style=self.get_component_rich_style(STATE_STYLES[step.state]))
        grid.add_row(mark, Text(step.title, style="bold"))
        grid.add_row("", Text(step.text(command=False)))
        return grid

    def refresh_steps(self) -> None:
        self.steps = list(setup_service.checklist(self.firm))
        options = self.query_one(OptionList)
        highlighted = options.highlighted
        options.clear_options()
        options.add_options(Option(self._prompt(step), id=step.id) for step in self.steps)
        if self.steps:
            options.highlighted = min(highlighted or 0, len(self.steps) - 1)
        done = sum(1 for step in self.steps if step.state != "missing")
        self.query_one("#checklist-progress-text", Label).update(f"{done} of {len(self.steps)} steps done")
        self.query_one(ProgressBar).update(total=len(self.steps), progress=done)
        self.app.refresh_header()

    def action_refresh_steps(self) -> None:
        self.refresh_steps()

    def action_next_missing(self) -> None:
        for index, step in enumerate(self.steps):
            if step.state == "missing":
                self.query_one(OptionList).highlighted = index
                return
        self.notify("Every step is done.")

    def open_fix(self, step_id: str | None) -> None:
        from tui.screens.steps import open_fix

        step = next((s for s in self.steps if s.id == step_id), None)
        if step is not None and step.fix is not None:
            open_fix(self.app, step.fix)

    def action_fix(self) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is not None:
            self.open_fix(options.get_option_at_index(options.highlighted).id)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.open_fix(event.option.id)
