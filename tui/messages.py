"""Messages the app posts to its screens ("attributes down, messages up")."""

from __future__ import annotations

from textual.message import Message


class SyncFinished(Message):
    """A background sync ended: screens showing sync states re-read them. `summary` is None after an error."""

    def __init__(self, summary: object = None) -> None:
        self.summary = summary
        super().__init__()
