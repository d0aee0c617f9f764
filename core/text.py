"""Small helpers for the sentences core shows people, and for text that leaves Ledgerlink.

Names come from clients and from QuickBooks; on a terminal a control character can move the cursor or clear
the screen and a bidi override can reverse what a line seems to say, and in a spreadsheet a cell starting with
= + - @ is a formula. `neutralise` and `safe_cell` make such text inert.
"""

from __future__ import annotations

import re
from typing import Any

# C0 controls but tab and newline, DEL, C1 controls, and the bidi embeddings, overrides, isolates and marks.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def counted(n: int, singular: str, plural: str | None = None) -> str:
    """`1 invoice`, `2 invoices`, `0 credit notes`; `plural` for nouns that do not just take an s."""
    return f"{n} {singular if n == 1 else plural or singular + 's'}"


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def neutralise(text: str) -> str:
    """`text` with every control and bidi character shown as a visible escape (`\\x1b`, `\\u202e`)."""
    return _UNSAFE.sub(_escape, text)


def safe_cell(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text: a leading ' before = + - @ tab or CR (`unsafe_cell` undoes it)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def unsafe_cell(value: str) -> str:
    """The text `safe_cell` was given, read back from a cell."""
    if value.startswith("'") and value[1:].startswith(_FORMULA_START):
        return value[1:]
    return value


class NeutralStream:
    """A text stream that writes through `neutralise`; everything else is the wrapped stream's."""

    def __init__(self, stream: Any):
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(neutralise(text))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
