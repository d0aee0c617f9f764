"""QBO's throttles, one limiter per company, shared by every request to it.

Defaults are QBO's documented limits (reference/qbo-api.md section 3): 500 requests a minute,
10 in flight, 10 a second, 40 batch requests a minute. `time_scale` multiplies every window
(benchmarks run the real limits in scaled time). The clock is injectable, so tests run without sleeping.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections import deque
from contextlib import asynccontextmanager
from dataclasses import dataclass


class MonotonicClock:
    """Real time."""

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


@dataclass(frozen=True)
class LimiterStats:
    requests_this_minute: int
    in_flight: int
    batches_this_minute: int


class Limiter:
    def __init__(
        self,
        requests_per_minute: int = 500,
        max_concurrent: int = 10,
        batches_per_minute: int = 40,
        time_scale: float = 1.0,
        clock=None,
        requests_per_second: int | None = 10,
    ):
        if requests_per_minute < 1 or max_concurrent < 1 or batches_per_minute < 1 or time_scale <= 0:
            raise ValueError("limits must be positive")
        self.requests_per_minute = requests_per_minute
        self.max_concurrent = max_concurrent
        self.batches_per_minute = batches_per_minute
        self.requests_per_second = requests_per_second
        self.time_scale = time_scale
        self.clock = clock or MonotonicClock()
        self._minute = 60.0 * time_scale
        self._second = 1.0 * time_scale
        self._starts: deque[float] = deque()
        self._batch_starts: deque[float] = deque()
        self._in_flight = 0
        self._slots = asyncio.Semaphore(max_concurrent)
        self._gate = asyncio.Lock()

    @classmethod
    def from_settings(cls, sync_settings, clock=None) -> "Limiter":
        return cls(
            requests_per_minute=sync_settings.requests_per_minute,
            max_concurrent=sync_settings.max_concurrent,
            batches_per_minute=sync_settings.batches_per_minute,
            time_scale=sync_settings.time_scale,
            clock=clock,
        )

    def _prune(self, now: float) -> None:
        for window in (self._starts, self._batch_starts):
            while window and window[0] <= now - self._minute:
                window.popleft()

    def _wait_needed(self, now: float, batch: bool) -> float:
        wait = 0.0
        if len(self._starts) >= self.requests_per_minute:
            wait = max(wait, self._starts[-self.requests_per_minute] + self._minute - now)
        if self.requests_per_second:
            recent = [t for t in list(self._starts)[-self.requests_per_second:] if t > now - self._second]
            if len(recent) >= self.requests_per_second:
                wait = max(wait, recent[0] + self._second - now)
        if batch and len(self._batch_starts) >= self.batches_per_minute:
            wait = max(wait, self._batch_starts[-self.batches_per_minute] + self._minute - now)
        return wait

    @asynccontextmanager
    async def request(self, batch: bool = False):
        """Hold one request slot for the duration of the block, waiting for the throttles first."""
        await self._slots.acquire()
        try:
            async with self._gate:
                while True:
                    now = self.clock.monotonic()
                    self._prune(now)
                    wait = self._wait_needed(now, batch)
                    if wait <= 0:
                        break
                    await self.clock.sleep(wait)
                self._starts.append(now)
                if batch:
                    self._batch_starts.append(now)
        except BaseException:
            self._slots.release()
            raise
        self._in_flight += 1
        try:
            yield
        finally:
            self._in_flight -= 1
            self._slots.release()

    def stats(self) -> LimiterStats:
        self._prune(self.clock.monotonic())
        return LimiterStats(len(self._starts), self._in_flight, len(self._batch_starts))


# One limiter per company (and per event loop: asyncio primitives belong to one loop).
_registry: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict]" = weakref.WeakKeyDictionary()


def limiter_for(realm_id: str, sync_settings=None, clock=None) -> Limiter:
    """The shared limiter of a company in the running event loop, created on first use."""
    loop = asyncio.get_running_loop()
    per_loop = _registry.setdefault(loop, {})
    if realm_id not in per_loop:
        if sync_settings is None:
            per_loop[realm_id] = Limiter(clock=clock)
        else:
            per_loop[realm_id] = Limiter.from_settings(sync_settings, clock=clock)
    return per_loop[realm_id]
