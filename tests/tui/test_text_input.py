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
