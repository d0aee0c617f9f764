"""A switch whose label says On or Off, so its state reads without colour (NO_COLOR, screen readers)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Label, Switch


class _WordedSwitch(Switch):
    # Shown in the footer: nothing else on a screen with one switch said which key flips it.
    BINDINGS = [Binding("space", "toggle_switch", "Switch on/off", id="switch.toggle", tooltip="Flip the switch")]

    def watch_value(self, value: bool) -> None:
        super().watch_value(value)
        if isinstance(self.parent, SwitchRow):
            self.parent.show(value)


class SwitchRow(Horizontal):
    """A Switch (with `switch_id`) and its label followed by ": On" or ": Off"."""

    def __init__(self, value: bool, label: str, *, switch_id: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.value = value
        self.label = label
        self.switch_id = switch_id

    def compose(self) -> ComposeResult:
        yield _WordedSwitch(self.value, id=self.switch_id)
        yield Label(self.text(self.value))

    def text(self, value: bool) -> str:
        return f"{self.label}: {'On' if value else 'Off'}"

    def show(self, value: bool) -> None:
        labels = self.query(Label)
        if labels:
            labels.first().update(self.text(value))
