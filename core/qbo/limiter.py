"""QBO's throttles, one limiter per company, shared by every request to it.

Defaults are QBO's documented limits (reference/qbo-api.md section 3): 500 requests a minute,
10 in flight, 10 a second, 40 batch requests a minute. `time_scale` multiplies every window
(benchmarks run the real limits in scaled time). The clock is injectable, so tests run without sleeping.

QBO counts a request in its minute window when it arrives; the client only knows when it sends one and when
the answer is back, and arrival lies between the two. So the minute windows (requests and batches) count a
request from the moment it is let go until a window after its answer (or failure) came back: whatever QBO
still counts when a new request arrives, the limiter counted when it let that request go, and a request let
go just before a window's edge cannot find QBO's window fuller than ours. The window is also stretched by
`CLOCK_SLACK` (0.1%), as the two sides' clocks may not run at quite the same rate. The cost is the round trip
plus 0.1% of a minute per request slot, well under 1% of the budget. The 10-a-second cap still counts send
times (counted like the minute, 10 requests would need a second plus a round trip, and at 200-300 ms round
trips 500 requests would no longer fit in a minute); QBO's documents disagree on whether that limit is 10 a second or 10
in flight (reference/qbo-api.md section 3), and both are capped here.
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


CLOCK_SLACK = 0.001


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
        self._minute = 60.0 * time_scale * (1 + CLOCK_SLACK)
        self._second = 1.0 * time_scale
        self._starts: deque[float] = deque()  # send times, for the per-second cap
        self._ends: deque[float] = deque()  # answer times of finished requests still in the minute window
        self._batch_ends: deque[float] = deque()
        self._open = 0  # let go, answer not back yet: always in the minute window
        self._open_batches = 0
        self._in_flight = 0
        self._slots = asyncio.Semaphore(max_concurrent)
        self._gate = asyncio.Lock()
        self._finished = asyncio.Event()

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
        for window in (self._ends, self._batch_ends):
            while window and window[0] <= now - self._minute:
                window.popleft()
        while self._starts and self._starts[0] <= now - self._second:
            self._starts.popleft()

    @staticmethod
    def _window_wait(ends: deque, open_: int, limit: int, minute: float, now: float) -> float | None:
        """Seconds until the window has room for one more (0: room now; None: only an answer can make room)."""
        excess = open_ + len(ends) - limit + 1
        if excess <= 0:
            return 0.0
        if excess > len(ends):
            return None
        return ends[excess - 1] + minute - now

    def _wait_needed(self, now: float, batch: bool) -> float | None:
        waits = [self._window_wait(self._ends, self._open, self.requests_per_minute, self._minute, now)]
        if batch:
            waits.append(self._window_wait(self._batch_ends, self._open_batches, self.batches_per_minute,
                                           self._minute, now))
        if self.requests_per_second and len(self._starts) >= self.requests_per_second:
            waits.append(self._starts[-self.requests_per_second] + self._second - now)
        known = [w for w in waits if w is not None]
        return max(known) if len(known) == len(waits) else None

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
                    if wait is None:
                        self._finished.clear()
                        await self._finished.wait()
                    elif wait > 0:
                        await self.clock.sleep(wait)
                    else:
                        break
                self._starts.append(now)
                self._open += 1
                if batch:
                    self._open_batches += 1
        except BaseException:
            self._slots.release()
            raise
        self._in_flight += 1
        try:
            yield
        finally:
            done = self.clock.monotonic()
            self._open -= 1
            self._ends.append(done)
            if batch:
                self._open_batches -= 1
                self._batch_ends.append(done)
            self._in_flight -= 1
            self._finished.set()
            self._slots.release()

    def stats(self) -> LimiterStats:
        self._prune(self.clock.monotonic())
        return LimiterStats(self._open + len(self._ends), self._in_flight, self._open_batches + len(self._batch_ends))


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
