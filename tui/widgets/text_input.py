"""An Input whose editing keys keep their place among typed characters.

Textual's Input inserts a typed character as soon as its key event arrives, while a bound key (backspace,
arrows, ctrl+u, tab...) bubbles up to the app before its action runs. Keys that arrive together (a fast
typist, or keystrokes batched by a slow SSH link) are then applied out of order: "ab⌫c" became "abc" with the
b gone later, and the characters typed after a Tab went into the field it left. Textual issue #6605; this runs
the bindings where the key arrives, as its PR #6631 proposes, and hands on what was typed after the focus moved.
"""

from __future__ import annotations

from textual import events
from textual.widgets import Input


class TextInput(Input):
    async def _on_key(self, event: events.Key) -> None:
        focused = self.app.focused
        if focused is not None and focused is not self:
            # Sent here before a key of the same read moved the focus: it belongs where the focus is now.
            event.stop()
            event.prevent_default()
            focused.post_message(events.Key(event.key, event.character))
            return
        await super()._on_key(event)
        if event.is_printable:
            return
        # The non-priority bindings from this field up, the user's keymap applied, as the app would run them.
        if await self.app._check_bindings(event.key):
            event.stop()
            event.prevent_default()
