"""Running core calls from Textual thread workers.

A worker opens its own connection to the firm database (the UI's connection stays on the event loop's
thread) and reports a LedgerlinkError back on the event loop instead of crashing the worker.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from textual.app import App

from core.errors import LedgerlinkError
from core.services.context import Firm, open_firm

T = TypeVar("T")


def with_own_firm(app: App, fn: Callable[[Firm], T], on_error: Callable[[LedgerlinkError], object]) -> T | None:
    """Call fn(firm) on a fresh firm connection; on a LedgerlinkError call on_error on the loop, return None."""
    firm = open_firm(app.settings)
    try:
        return fn(firm)
    except LedgerlinkError as exc:
        app.call_from_thread(on_error, exc)
        return None
    finally:
        firm.close()
