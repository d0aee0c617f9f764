"""Helpers shared by the TUI tests."""

from __future__ import annotations


def state_text(screen) -> str:
    """The step state line(s) of a step screen, as the user reads them."""
    return str(screen.query_one(".step-state").render())
