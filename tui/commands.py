"""Command palette provider: every screen and every action bound on the current screen."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


@dataclass(frozen=True)
class PaletteEntry:
    title: str
    help: str
    run: Callable[[], object]


class LedgerlinkCommands(Provider):
    """Screens to open (from the app) and the actions the current screen binds, each by its description."""

    def entries(self) -> list[PaletteEntry]:
        app = self.app
        entries = [PaletteEntry(title, help_text, partial(app.run_action, action))
                   for title, help_text, action in app.palette_navigation()]
        seen = {e.title for e in entries}
        navigation = {action for _, _, action in app.palette_navigation()}
        for active in self.screen.active_bindings.values():
            binding = active.binding
            title = binding.description
            if not title or title in seen or binding.action in navigation or binding.action.startswith("_"):
                continue
            seen.add(title)
            key = app.get_key_display(binding)
            entries.append(PaletteEntry(title, binding.tooltip or f"Key: {key}",
                                        partial(app.run_action, binding.action, active.node)))
        return entries

    async def discover(self) -> Hits:
        for entry in self.entries():
            yield DiscoveryHit(entry.title, entry.run, help=entry.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for entry in self.entries():
            score = matcher.match(entry.title)
            if score > 0:
                yield Hit(score, matcher.highlight(entry.title), entry.run, help=entry.help)
