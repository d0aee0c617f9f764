"""The retry policy for QBO calls: which failures are retried, and how long to wait.

429, 5xx and network errors are transient: retried with capped exponential backoff and full jitter.
A 429 (or any answer) with a Retry-After hint waits exactly that long; a 429 without one waits
QBO's advised 60 s. The random part lives in `jitter()` so tests can pin it.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import Awaitable, Callable

from core.errors import TransientError


def jitter(delay: float) -> float:
    """Full jitter: a uniformly random wait between half the delay and the whole of it."""
    return delay * (0.5 + random.random() / 2)


@dataclass
class RetryPolicy:
    max_attempts: int = 6
    """Attempts in all, the first included."""
    base_delay: float = 1.0
    """Seconds before the second attempt (doubled each time, before jitter)."""
    max_backoff: float = 60.0
    """Longest wait between attempts, in seconds."""
    default_retry_after: float = 60.0
    """Wait after a 429 that gives no Retry-After (QBO: wait 60 seconds)."""
    time_scale: float = 1.0
    """Multiplies every wait (benchmarks run QBO's limits in scaled time)."""
    jitter: Callable[[float], float] = field(default=jitter)
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep)

    @classmethod
    def from_settings(cls, sync_settings, **overrides) -> "RetryPolicy":
        values = dict(
            max_backoff=sync_settings.max_backoff,
            default_retry_after=sync_settings.default_retry_after,
            time_scale=sync_settings.time_scale,
        )
        values.update(overrides)
        return cls(**values)

    def delay(self, attempt: int, error: TransientError) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        hint = error.retry_after
        if hint is not None:
            return min(hint * self.time_scale, self.max_backoff * self.time_scale) if hint > 0 else 0.0
        if error.status == 429:
            return self.default_retry_after * self.time_scale
        backoff = min(self.max_backoff, self.base_delay * (2 ** (attempt - 1)))
        return self.jitter(backoff) * self.time_scale

    async def run(self, attempt_fn: Callable[[int], Awaitable], on_retry=None):
        """Call `attempt_fn(attempt)` until it returns, retrying TransientError (unless marked
        `retryable = False`, e.g. a write without requestid); the last one is raised."""
        attempt = 1
        while True:
            try:
                return await attempt_fn(attempt)
            except TransientError as exc:
                if attempt >= self.max_attempts or not exc.retryable:
                    raise
                wait = self.delay(attempt, exc)
                if on_retry is not None:
                    on_retry(attempt, wait, exc)
                await self.sleep(wait)
                attempt += 1
