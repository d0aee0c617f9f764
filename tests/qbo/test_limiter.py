"""The limiter keeps QBO's throttles, measured on a fake clock (no real sleeping)."""

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.sandbox.injection import Limits, Throttle

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
    # 5 at once, the next 5 a minute (and its 0.1% clock slack) after their answers, the last 2 a minute after that
    assert starts[:5] == [1000.0] * 5
    assert starts[5:10] == [1060.06] * 5
    assert starts[10:] == [pytest.approx(1120.12)] * 2
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
    assert times == [1000.0, 1000.0, 1060.06, 1060.06]
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


async def _send(lim, clock, server, limits, up, down, batch=False):
    """One request through the limiter: `up` seconds on the way to the server, which counts it on arrival
    (the sandbox's own throttle), `down` seconds back. Returns whether the server let it in."""
    async with lim.request(batch=batch):
        await clock.sleep(up)
        admitted = server.admit(limits, clock.now, batch_items=1 if batch else None)
        await clock.sleep(down)
    return admitted


async def test_a_request_let_go_just_before_the_window_edge_is_not_refused():
    # QBO counts a request when it arrives, the client knew only when it left: the first request took
    # half a second to arrive, the ones after it none. Counted from when they left, the window has room
    # again at 1060.0 and a request arriving 2 ms later still finds the first one in QBO's window (a 429).
    clock = FakeClock(start=0.0)
    limits = Limits(requests_per_minute=5, max_concurrent=None, batches_per_minute=None, window=60.0)
    server = Throttle()
    lim = Limiter(requests_per_minute=5, requests_per_second=None, clock=clock)
    assert await _send(lim, clock, server, limits, up=0.5, down=0.5)
    for _ in range(4):
        assert await _send(lim, clock, server, limits, up=0.0, down=0.0)
    assert lim.stats().requests_this_minute == 5
    clock.now = 60.0
    async with lim.request():
        sent = clock.now
        assert server.admit(limits, clock.now + 0.002, batch_items=None)
    # Held until a window after the first request's answer (1.0), never before QBO forgets its arrival (0.5).
    assert sent == pytest.approx(1.0 + 60.06)


async def test_requests_still_waiting_for_an_answer_hold_their_place_in_the_window():
    clock = FakeClock(start=0.0)
    lim = Limiter(requests_per_minute=2, max_concurrent=5, requests_per_second=None, clock=clock)
    release = asyncio.Event()
    started = []

    async def slow():
        async with lim.request():
            started.append(clock.now)
            await release.wait()

    holders = [asyncio.create_task(slow()) for _ in range(2)]
    third = asyncio.create_task(slow())
    for _ in range(5):
        await asyncio.sleep(0)
    assert len(started) == 2  # the third waits for an answer, however long the first two take
    clock.now = 500.0
    release.set()
    await asyncio.gather(*holders, third)
    assert started[2] == pytest.approx(500.0 + 60.06)  # a window after the answers came back, not after the sends


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 2), st.floats(0, 2), st.booleans(), st.floats(0, 30)),
                min_size=1, max_size=40))
def test_whatever_the_transit_times_the_server_never_counts_more_than_its_limit(trips):
    limits = Limits(requests_per_minute=5, max_concurrent=None, batches_per_minute=2, window=60.0)

    async def run():
        clock = FakeClock(start=0.0)
        server = Throttle()
        lim = Limiter(requests_per_minute=5, batches_per_minute=2, requests_per_second=None, clock=clock)
        for up, down, batch, idle in trips:
            assert await _send(lim, clock, server, limits, up, down, batch), "the server answered 429"
            await clock.sleep(idle)

    asyncio.run(run())
