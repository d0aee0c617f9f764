"""The key-hint footer, rebuilt only when the keys it shows change.

Textual's Footer rebuilds every key widget on each bindings signal (every focus move, every cursor move on a
screen whose actions are checked); each rebuild restyles the whole footer. Over SSH and in a keyboard-driven
form that is most of the CPU a key press costs, for a footer that reads the same as before.
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer


class KeyFooter(Footer):
    """A Footer that skips the rebuild when the shown keys, labels and enabled states are unchanged."""

    _shown: tuple | None = None

    def _keys_shown(self, screen: Screen) -> tuple:
        return tuple((binding.key, binding.action, binding.description, binding.group, enabled, tooltip)
                     for (_, binding, enabled, tooltip) in screen.active_bindings.values() if binding.show)

    def compose(self):
        if self._bindings_ready:
            self._shown = self._keys_shown(self.screen)
        yield from super().compose()

    def bindings_changed(self, screen: Screen) -> None:
        if (self._shown is not None and self.is_attached and screen is self.screen
                and self._keys_shown(screen) == self._shown):
            return
        super().bindings_changed(screen)
