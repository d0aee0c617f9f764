"""An Input whose editing keys keep their place among typed characters.

Textual's Input inserts a typed character as soon as its key event arrives, while a bound key (backspace,
arrows, ctrl+u...) bubbles up to the app before its action runs. Keys that arrive together (a fast typist,
or keystrokes batched by a slow SSH link) are then applied out of order: "ab⌫c" became "abc" with the b
gone later. Textual issue #6605; this runs the input's own bindings where the key arrives, as its PR #6631
proposes.
"""

from __future__ import annotations

from textual import events
from textual.widgets import Input


class TextInput(Input):
    async def _on_key(self, event: events.Key) -> None:
        await super()._on_key(event)
        if event.is_printable:
            return
        chain = self.screen._binding_chain  # the user's keymap applied, as the app would see it
        own = next((bindings for node, bindings in chain if node is self), None)
        if own is None:
            return
        for binding in own.key_to_bindings.get(event.key, ()):
            if not binding.priority and await self.app.run_action(binding.action, self):
                event.stop()
                event.prevent_default()
                return
