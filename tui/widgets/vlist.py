"""A virtual list: only the visible rows are rendered, and filtering swaps an index list in place.

Used by the mapper, where a pane holds thousands of rows (5,000 ledger accounts, 2,000 QBO items):
no widget per row, no remounting when the filter changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip


@dataclass(frozen=True)
class Row:
    key: str
    text: str
    struck: bool = False
    """Shown struck through and not selectable (a QBO reference already used)."""
    note: str = ""
    """Dimmed text after the row's text (what it is mapped to, why it is unavailable)."""


class VirtualList(ScrollView, can_focus=True):
    """Rows with a cursor; `filter` keeps the rows whose text contains every word typed."""

    DEFAULT_CSS = """
    VirtualList {
        height: 1fr;
        overflow-x: hidden;  /* rows are cut to the width: there is nothing to scroll to */
        border: round $panel;
        background: $surface;
    }
    VirtualList:focus {
        border: round $primary;
    }
    VirtualList > .vlist--cursor { background: $surface-lighten-2; text-style: bold; }
    VirtualList:focus > .vlist--cursor { background: $primary 40%; color: $foreground; text-style: bold reverse; }
    VirtualList > .vlist--struck { color: $text-muted; text-style: strike; }
    VirtualList > .vlist--note { color: $text-muted; }
    VirtualList > .vlist--empty { color: $text-muted; text-style: italic; }
    """
    COMPONENT_CLASSES = {"vlist--cursor", "vlist--struck", "vlist--note", "vlist--empty"}
    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
    ]

    cursor: reactive[int] = reactive(0, always_update=True)

    class Highlighted(Message):
        def __init__(self, vlist: VirtualList, row: Row | None) -> None:
            self.vlist = vlist
            self.row = row
            super().__init__()

        @property
        def control(self) -> VirtualList:
            return self.vlist

    def __init__(self, *, empty_text: str = "Nothing to show", **kwargs) -> None:
        super().__init__(**kwargs)
        self.rows: list[Row] = []
        self._folded: list[str] = []
        self.shown: list[int] = []
        self.empty_text = empty_text
        self.filter_text = ""

    def set_rows(self, rows: list[Row], keep_key: str | None = None) -> None:
        """Replace every row (the current filter stays applied); keep the cursor on `keep_key` if present."""
        current = keep_key if keep_key is not None else (self.current.key if self.current else None)
        self.rows = list(rows)
        self._folded = [f"{r.text} {r.note}".casefold() for r in self.rows]
        self._apply(current, self._match(self.filter_text.casefold().split()), rows_changed=True)

    def filter(self, text: str) -> None:
        """Show only rows containing every word of `text` (case-insensitive)."""
        if text == self.filter_text:
            return
        before = self.filter_text.casefold().split()
        words = text.casefold().split()
        self.filter_text = text
        # Every old word inside some new word (typing on): only the rows shown now can still match.
        narrowing = bool(before) and all(any(old in new for new in words) for old in before)
        self._apply(self.current.key if self.current else None, self._match(words, self.shown if narrowing else None))

    def _match(self, words: list[str], within: list[int] | None = None) -> list[int]:
        folded = self._folded
        if not words:
            return list(range(len(folded)))
        first, *rest = words
        shown = [i for i in (range(len(folded)) if within is None else within) if first in folded[i]]
        for word in rest:
            shown = [i for i in shown if word in folded[i]]
        return shown

    def _apply(self, keep_key: str | None, shown: list[int], rows_changed: bool = False) -> None:
        position = 0
        if keep_key is not None:
            for n, index in enumerate(shown):
                if self.rows[index].key == keep_key:
                    position = n
                    break
        if not rows_changed and shown == self.shown and position == self.cursor:
            return  # the same rows and cursor: nothing on screen changes
        self.shown = shown
        self._fit()
        self.cursor = position
        self.refresh()

    @property
    def current(self) -> Row | None:
        if 0 <= self.cursor < len(self.shown):
            return self.rows[self.shown[self.cursor]]
        return None

    def select_key(self, key: str) -> bool:
        for n, index in enumerate(self.shown):
            if self.rows[index].key == key:
                self.cursor = n
                return True
        return False

    def validate_cursor(self, value: int) -> int:
        return max(0, min(value, len(self.shown) - 1)) if self.shown else 0

    def watch_cursor(self, value: int) -> None:
        height = self.scrollable_content_region.height or 1
        if value < self.scroll_offset.y:
            self.scroll_to(y=value, animate=False)
        elif value >= self.scroll_offset.y + height:
            self.scroll_to(y=value - height + 1, animate=False)
        self.refresh()
        self.post_message(self.Highlighted(self, self.current))

    def action_cursor(self, delta: int) -> None:
        self.cursor += delta

    def action_page(self, direction: int) -> None:
        self.cursor += direction * max(1, self.scrollable_content_region.height - 1)

    def action_jump(self, where: int) -> None:
        self.cursor = 0 if where == 0 else len(self.shown) - 1

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        index = self.scroll_offset.y + y
        if not self.shown:
            if y == 0:
                style = base + self.get_component_rich_style("vlist--empty")
                return Strip([Segment(self.empty_text[:width].ljust(width), style)], width)
            return Strip.blank(width, base)
        if index >= len(self.shown):
            return Strip.blank(width, base)
        row = self.rows[self.shown[index]]
        style = base
        if row.struck:
            style += self.get_component_rich_style("vlist--struck")
        if index == self.cursor:
            style += self.get_component_rich_style("vlist--cursor")
        segments = [Segment(f" {row.text}", style)]
        if row.note:
            note_style = style + self.get_component_rich_style("vlist--note", partial=True) + Style(strike=False)
            segments.append(Segment(f"  {row.note}", note_style))
        return Strip(segments).adjust_cell_length(width, style + Style(strike=False))

    def _fit(self) -> None:
        """Size the scrollable area to the shown rows without a layout pass of the screen: the list's own
        region does not move; only a scrollbar appearing or going asks for a layout (Textual does that)."""
        size = Size(self.size.width, max(1, len(self.shown)))
        if size == self.virtual_size:
            return
        if not self.container_size:  # not laid out yet
            self.virtual_size = size
            return
        self.set_reactive(VirtualList.virtual_size, size)
        self._scrollbar_changes.clear()  # as ScrollView._size_updated does before the same call
        self._scroll_update(size)
        if self._vertical_scrollbar is not None:  # a hidden bar is not told: it shows again with these
            self._vertical_scrollbar.window_virtual_size = size.height
            self._vertical_scrollbar.position = self.scroll_y

    def _size_updated(self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True) -> bool:
        # Textual's ScrollView compares the compositor's content size with the virtual size; they always differ,
        # so every layout pass of the screen (each key typed in any Input) redrew both scrollbars. `_fit` keeps
        # the scrollbars right when the rows change; here only a change of the list's own size counts.
        return super()._size_updated(size, self.virtual_size, container_size, layout)

    def on_resize(self) -> None:
        self._fit()
