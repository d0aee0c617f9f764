"""The key-hint footer, rebuilt only when the keys it shows change.

Textual's Footer rebuilds every key widget on each bindings signal (every focus move, every cursor move on a
screen whose actions are checked); each rebuild restyles the whole footer. Over SSH and in a keyboard-driven
form that is most of the CPU a key press costs, for a footer that reads the same as before.
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class KeyFooter(Footer):
    """A Footer that skips the rebuild when the shown keys, labels and enabled states are unchanged."""

    _shown: tuple | None = None

    def _keys_shown(self, screen: Screen) -> tuple:
        return tuple((binding.key, binding.action, binding.description, binding.group, enabled, tooltip)
                     for (_, binding, enabled, tooltip) in screen.active_bindings.values() if binding.show)

    def compose(self):
        if self._bindings_ready:
            self._shown = self._keys_shown(self.screen)
        for widget in super().compose():
            if isinstance(widget, FooterKey) and not widget.has_class("-command-palette"):
                # The key is bound to the footer's `compact`; starting it there skips a restyle to the key's own
                # default and another back on every rebuild.
                widget.set_reactive(FooterKey.compact, self.compact)
            yield widget

    def bindings_changed(self, screen: Screen) -> None:
        if (self._shown is not None and self.is_attached and screen is self.screen
                and self._keys_shown(screen) == self._shown):
            return
        super().bindings_changed(screen)
