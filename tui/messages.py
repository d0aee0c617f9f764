"""Messages the TUI's widgets and workers post upward ("attributes down, messages up")."""

from __future__ import annotations

from textual.message import Message


class SetupChanged(Message):
    """Something the setup checklist depends on changed: screens and the header refresh."""


class ConnectionChanged(Message):
    """The QBO connection was made, refreshed or removed: the header re-reads it."""


class SyncProgress(Message):
    """One progress event of a running sync; each replaces the previous one on screen."""

    def __init__(self, event: object) -> None:
        self.event = event
        super().__init__()


class SyncFinished(Message):
    """A sync run ended (its result or the error that stopped it)."""

    def __init__(self, result: object = None, error: str | None = None) -> None:
        self.result = result
        self.error = error
        super().__init__()
