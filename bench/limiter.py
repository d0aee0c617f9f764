"""How close the per-company limiter lets requests run to QBO's throttle ceiling, in scaled time.

QBO allows 500 requests a minute per company, 10 in flight and 10 a second. With every window scaled
by --scale (0.01: a "minute" lasts 0.6 s), the earliest moment the N-th request may start under those
rules is computed exactly (request i starts no sooner than request i-500 plus a minute, nor request i-10
plus a second). The ratio printed is that bound over the measured time for the limiter to start them
all, while each request holds its slot for --latency seconds (1.00 = the throttle ceiling).

    .venv/bin/python bench/limiter.py [--requests 2500] [--scale 0.01] [--latency 0.002]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from core.qbo.limiter import Limiter


async def run(requests: int, scale: float, latency: float) -> tuple[float, float, int]:
    limiter = Limiter(time_scale=scale)
    starts: list[float] = []
    peak = 0

    async def one() -> None:
        nonlocal peak
        async with limiter.request():
            starts.append(time.monotonic())
            peak = max(peak, limiter.stats().in_flight)
            await asyncio.sleep(latency)

    t0 = time.monotonic()
    await asyncio.gather(*(one() for _ in range(requests)))
    elapsed = max(starts) - t0
    return elapsed, ideal_last_start(requests, limiter), peak


def ideal_last_start(n: int, limiter: Limiter) -> float:
    """The earliest start of the n-th request that QBO's per-minute and per-second rules allow."""
    minute, second = 60 * limiter.time_scale, limiter.time_scale
    rpm, rps = limiter.requests_per_minute, limiter.requests_per_second or n
    t: list[float] = []
    for i in range(n):
        earliest = 0.0
        if i >= rpm:
            earliest = max(earliest, t[i - rpm] + minute)
        if i >= rps:
            earliest = max(earliest, t[i - rps] + second)
        t.append(earliest)
    return t[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2500)
    parser.add_argument("--scale", type=float, default=0.01)
    parser.add_argument("--latency", type=float, default=0.002)
    args = parser.parse_args()
    elapsed, bound, peak = asyncio.run(run(args.requests, args.scale, args.latency))
    print(f"{args.requests} requests, windows x{args.scale}, {args.latency * 1000:.1f} ms each")
    print(f"ceiling bound {bound:.3f} s, measured {elapsed:.3f} s, peak in flight {peak}")
    print(f"ratio to the throttle ceiling: {bound / elapsed:.3f}")


if __name__ == "__main__":
    main()
