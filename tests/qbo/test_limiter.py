"""The limiter keeps QBO's throttles, measured on a fake clock (no real sleeping)."""

import asyncio

import pytest

from core.qbo.limiter import Limiter, limiter_for
from core.settings import SyncSettings
from tests.qbo.fakes import FakeClock


async def test_requests_per_minute_window():
    clock = FakeClock()
    lim = Limiter(requests_per_minute=5, requests_per_second=None, clock=clock)
    starts = []
    for _ in range(12):
        async with lim.request():
            starts.append(clock.now)
    # 5 at once, the next 5 one minute later, the last 2 a minute after that
    assert starts[:5] == [1000.0] * 5
    assert starts[5:10] == [1060.0] * 5
    assert starts[10:] == [1120.0] * 2
    assert lim.stats().requests_this_minute == 2


async def test_no_more_than_max_concurrent_in_flight():
    clock = FakeClock()
    lim = Limiter(requests_per_minute=1000, max_concurrent=3, requests_per_second=None, clock=clock)
    peak = 0
    release = asyncio.Event()

    async def job():
        nonlocal peak
        async with lim.request():
            peak = max(peak, lim.stats().in_flight)
            await release.wait()

    tasks = [asyncio.create_task(job()) for _ in range(8)]
    for _ in range(5):
        await asyncio.sleep(0)
    assert lim.stats().in_flight == 3
    release.set()
    await asyncio.gather(*tasks)
    assert peak == 3 and lim.stats().in_flight == 0


async def test_batches_per_minute_are_counted_separately():
    clock = FakeClock()
    lim = Limiter(requests_per_minute=500, batches_per_minute=2, requests_per_second=None, clock=clock)
    times = []
    for _ in range(3):
        async with lim.request(batch=True):
            times.append(clock.now)
    async with lim.request():  # a plain request is not held back by the batch window
        times.append(clock.now)
    assert times == [1000.0, 1000.0, 1060.0, 1060.0]
    assert lim.stats().batches_this_minute == 1


async def test_per_second_cap_and_time_scale():
    clock = FakeClock()
    lim = Limiter(requests_per_minute=500, requests_per_second=10, time_scale=0.1, clock=clock)
    times = []
    for _ in range(25):
        async with lim.request():
            times.append(round(clock.now - 1000.0, 6))
    # 10 per (scaled) second: 0.1 s of fake time per 10 requests
    assert times[:10] == [0.0] * 10 and times[10:20] == [0.1] * 10 and times[20:] == [0.2] * 5


async def test_default_limits_are_qbos():
    lim = Limiter()
    assert (lim.requests_per_minute, lim.max_concurrent, lim.batches_per_minute) == (500, 10, 40)


async def test_one_limiter_per_company():
    s = SyncSettings(requests_per_minute=7)
    a = limiter_for("realm-a", s)
    assert limiter_for("realm-a", s) is a
    assert limiter_for("realm-b", s) is not a
    assert a.requests_per_minute == 7


def test_bad_limits_refused():
    with pytest.raises(ValueError):
        Limiter(requests_per_minute=0)
