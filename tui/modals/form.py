"""A small form in a modal: fields in reading order, core's own error message shown in place.

The caller gives a `submit(values) -> result` function (a core.services call); the form dismisses
with its result when it succeeds, and shows the LedgerlinkError message (and problems) when it fails.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from core.errors import LedgerlinkError, ValidationError
from tui.widgets.text_input import TextInput
from tui.widgets.toggles import MarkedCheckbox


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str = "text"  # 'text' | 'select' | 'check'
    options: Sequence[tuple[str, object]] = field(default_factory=tuple)
    value: object = None
    placeholder: str = ""


def problem_text(error: LedgerlinkError) -> str:
    """core's message, followed by each problem of a ValidationError on its own line."""
    lines = [str(error)]
    if isinstance(error, ValidationError):
        lines += [f"- {p}" for p in getattr(error, "problems", []) or [] if p != str(error)]
    return "\n".join(lines)


class FormModal(ModalScreen[object]):
    """Ctrl+S (or the Save button) submits; Escape cancels with None."""

    CSS_PATH = "form.tcss"
    BINDINGS = [
        Binding("ctrl+s", "submit", "Save", id="form.save", tooltip="Save this form"),
        Binding("escape", "cancel", "Cancel", id="form.cancel", tooltip="Close without saving"),
    ]

    def __init__(self, title: str, fields: Sequence[Field], submit: Callable[[dict], object],
                 note: str = "") -> None:
        super().__init__()
        self.form_title = title
        self.fields = list(fields)
        self.submit_fn = submit
        self.note = note

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="form-box", can_focus=False):
            yield Label(self.form_title, id="form-title")
            if self.note:
                yield Static(self.note, id="form-note")
            for spec in self.fields:
                if spec.kind == "check":
                    yield MarkedCheckbox(spec.label, bool(spec.value), id=f"field-{spec.name}")
                    continue
                with Horizontal(classes="form-row"):  # label beside its field: short enough for 80x24
                    yield Label(spec.label, classes="form-label")
                    if spec.kind == "select":
                        yield Select(list(spec.options), id=f"field-{spec.name}", allow_blank=spec.value is None,
                                     value=spec.value if spec.value is not None else Select.NULL)
                    else:
                        yield TextInput(str(spec.value or ""), placeholder=spec.placeholder, id=f"field-{spec.name}")
            yield Static("", id="form-error")
            with Horizontal(id="form-buttons"):
                yield Button("Save (Ctrl+S)", variant="primary", id="form-save")
                yield Button("Cancel (Esc)", id="form-cancel")

    def on_mount(self) -> None:
        if self.fields:
            self.query_one(f"#field-{self.fields[0].name}").focus()
        if getattr(self.app, "still", False):
            for field_widget in self.query(Input):
                field_widget.cursor_blink = False
        self.opened_with = self.values()

    def unsaved_text(self) -> str:
        """What Escape or Ctrl+Q would drop ("" when nothing was typed since the form opened)."""
        if not self.is_mounted or self.values() == getattr(self, "opened_with", None):
            return ""
        return f"\"{self.form_title}\""

    def values(self) -> dict:
        out: dict = {}
        for spec in self.fields:
            widget = self.query_one(f"#field-{spec.name}")
            value = widget.value
            if spec.kind == "select" and value is Select.NULL:
                value = None
            out[spec.name] = value
        return out

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "form-save":
            self.action_submit()
        else:
            self.action_cancel()

    def action_submit(self) -> None:
        error = self.query_one("#form-error", Static)
        try:
            result = self.submit_fn(self.values())
        except LedgerlinkError as exc:
            error.update(problem_text(exc))
            error.add_class("-shown")
            return
        self.dismiss(result)

    def action_cancel(self) -> None:
        if not self.unsaved_text():
            self.dismiss(None)
            return
        from tui.modals.confirm import ConfirmModal

        self.app.push_screen(ConfirmModal(f"Leave {self.unsaved_text()} without saving? What you typed is lost.",
                                          "Leave"), self.leave)

    def leave(self, yes: bool) -> None:
        if yes:
            self.dismiss(None)
