"""The virtual list under a filter: the highlighted row stays in view when the filter widens."""

from __future__ import annotations

import contextlib

from textual.app import App, ComposeResult

from tui.widgets.vlist import Row, VirtualList


class ListApp(App):
    CSS = "VirtualList { height: 14; }"  # 12 rows inside the border

    def compose(self) -> ComposeResult:
        yield VirtualList()


def visible_text(vlist: VirtualList) -> list[str]:
    return [vlist.render_line(y).text for y in range(vlist.scrollable_content_region.height)]


@contextlib.asynccontextmanager
async def two_hundred_rows():
    """A ListApp at 60x20 whose list holds `row 0` to `row 199`: (pilot, the list)."""
    app = ListApp()
    async with app.run_test(size=(60, 20)) as pilot:
        vlist = app.query_one(VirtualList)
        vlist.set_rows([Row(str(n), f"row {n}") for n in range(200)])
        await pilot.pause()
        yield pilot, vlist


async def test_widening_the_filter_from_rows_that_fit_keeps_the_highlighted_row_in_view():
    async with two_hundred_rows() as (pilot, vlist):
        vlist.filter("row 15")  # 15 and 150-159: they fit, nothing to scroll
        await pilot.pause()
        assert vlist.select_key("159")
        await pilot.pause()
        vlist.filter("row 1")  # 111 rows; 159 is the 71st
        await pilot.pause()
        assert vlist.current.key == "159"
        assert any(line.strip() == "row 159" for line in visible_text(vlist))  # was scrolled to the top, out of view
        assert vlist.vertical_scrollbar.display and vlist.vertical_scrollbar.position == vlist.scroll_offset.y


async def test_a_long_list_shows_every_row_it_has_room_for_and_no_horizontal_scrollbar():
    # The rows are cut to the width, yet a vertical scrollbar made the list wider than its content: a horizontal
    # scrollbar with nothing to scroll to took the last row.
    async with two_hundred_rows() as (pilot, vlist):
        assert vlist.vertical_scrollbar.display and not vlist.show_horizontal_scrollbar
        assert vlist.scrollable_content_region.height == 12
        assert [line.strip() for line in visible_text(vlist)] == [f"row {n}" for n in range(12)]
