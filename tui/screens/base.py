"""The frame every full screen shares: the firm header on top, the key hints at the bottom."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Input, TabbedContent

from tui.widgets.footer import KeyFooter
from tui.widgets.header import FirmHeader


class LedgerScreen(Screen):
    """A full screen with the firm header and the footer; subclasses compose their body."""

    TITLE_TEXT = ""

    def compose(self) -> ComposeResult:
        yield FirmHeader()
        yield from self.compose_body()
        yield KeyFooter()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        self.still_cursors()

    def still_cursors(self) -> None:
        """Snapshot runs (app.still) turn cursor blinking off so screenshots are stable."""
        if getattr(self.app, "still", False):
            for field in self.query(Input):
                field.cursor_blink = False

    @property
    def firm(self):
        return self.app.firm


def tab_bindings(screen: str, tabs: tuple[tuple[str, str], ...]) -> list[Binding]:
    """Digits open a tab (its title shows the digit), `[` and `]` step through them; ids `SCREEN.tab.TAB`."""
    keys = [Binding(str(n), f"tab('{tab}')", f"{title} tab", id=f"{screen}.tab.{tab}", show=False,
                    tooltip=f"Show the {title} tab") for n, (tab, title) in enumerate(tabs, 1)]
    keys += [Binding("left_square_bracket", "tab_step(-1)", "Previous tab", id=f"{screen}.tab.previous",
                     show=False, tooltip="Show the tab to the left"),
             Binding("right_square_bracket", "tab_step(1)", "Next tab", id=f"{screen}.tab.next", show=False,
                     tooltip="Show the tab to the right")]
    return keys


def tab_title(n: int, title: str) -> str:
    return f"{n} {title}"


class TabbedScreen(LedgerScreen):
    """A screen of tabs reachable by key; subclasses list TABS and the widget each tab focuses first."""

    TABS: tuple[tuple[str, str], ...] = ()
    TAB_FOCUS: dict[str, str] = {}

    @property
    def tab(self) -> str:
        tabs = self.query(TabbedContent)
        return tabs.first().active if tabs else ""

    def show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        target = self.TAB_FOCUS.get(tab)
        if target:
            self.query_one(target).focus()

    def action_tab(self, tab: str) -> None:
        self.show_tab(tab)

    def action_tab_step(self, step: int) -> None:
        ids = [tab for tab, _ in self.TABS]
        here = ids.index(self.tab) if self.tab in ids else 0
        self.show_tab(ids[(here + step) % len(ids)])
