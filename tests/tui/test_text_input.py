"""Keys that arrive together (fast typing, or keystrokes batched by a slow SSH link) are applied in order."""

from textual import events
from textual.app import App
from textual.widgets import Input

from tui.widgets.text_input import TextInput


class OneField(App):
    def __init__(self, field: Input) -> None:
        super().__init__()
        self.field = field

    def compose(self):
        yield self.field


async def typed_in_one_burst(field: Input, keys: list[tuple[str, str | None]]) -> str:
    app = OneField(field)
    async with app.run_test() as pilot:
        await pilot.pause()
        for key, character in keys:  # posted without waiting between them, as one read from the terminal
            app.post_message(events.Key(key, character))
        await pilot.pause()
        await pilot.pause()
        return field.value


BURST = [("b", "b"), ("a", "a"), ("backspace", None), ("c", "c"), ("left", None), ("x", "x")]


async def test_editing_keys_keep_their_place_among_typed_characters():
    assert await typed_in_one_burst(TextInput(), BURST) == "bxc"


async def test_textuals_own_input_reorders_them():
    # Textual issue #6605: the reason TextInput exists; when this fails, Textual has fixed it upstream.
    assert await typed_in_one_burst(Input(), BURST) != "bxc"


class TwoFields(App):
    def compose(self):
        yield TextInput(id="first")
        yield TextInput(id="second")


async def test_what_is_typed_after_a_tab_in_the_same_burst_goes_to_the_next_field():
    # It went into the field the Tab left: the Tab's focus change ran after the characters behind it.
    app = TwoFields()
    async with app.run_test() as pilot:
        await pilot.pause()
        for key, character in [("a", "a"), ("b", "b"), ("tab", None), ("c", "c"), ("backspace", None), ("d", "d")]:
            app.post_message(events.Key(key, character))
        await pilot.pause()
        await pilot.pause()
        assert (app.query_one("#first", Input).value, app.query_one("#second", Input).value) == ("ab", "d")
        assert app.focused.id == "second"
