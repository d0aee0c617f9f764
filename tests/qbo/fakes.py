"""Test helpers for the QBO tests: a fake clock that never sleeps."""

from __future__ import annotations

import asyncio


class FakeClock:
    """Monotonic time that moves only when someone sleeps on it; sleeping costs no real time."""

    def __init__(self, start: float = 1000.0):
        self.now = start
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)
