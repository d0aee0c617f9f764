"""Every wait of the sync is capped exponential with jitter: about 30 s, doubling, at most an hour."""

from __future__ import annotations

import pytest

from core.qbo import backoff


def test_the_schedule_doubles_to_the_cap_and_jitter_stays_between_half_and_all():
    assert [backoff.schedule(n, rand=1.0) for n in range(1, 10)] == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert [backoff.schedule(n, rand=0.0) for n in range(1, 10)] == [15, 30, 60, 120, 240, 480, 960, 1800, 1800]
    assert backoff.schedule(10_000, rand=1.0) == 3600  # no overflow after days of waiting
    draws = [backoff.schedule(3, rand=None) for _ in range(200)]
    assert all(60 <= d <= 120 for d in draws) and len(set(draws)) > 100  # two processes rarely ask together
    assert backoff.schedule(4, first=2.0, cap=60.0, rand=1.0) == 16 and backoff.schedule(9, first=2, cap=60) <= 60
    assert backoff.schedule(3, cap=0.0) == 0.0  # tests and benchmarks that switch waiting off


def test_a_wait_grows_up_to_an_hour_and_a_clear_ends_it(firm):
    db = firm.db
    assert backoff.waiting(db, "customer:7", now=0) is None
    waits = [backoff.note(db, "customer:7", "stuck", now=0, rand=1.0) for _ in range(9)]
    assert waits == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert backoff.waiting(db, "customer:7", now=3599)["reason"] == "stuck"
    assert backoff.waiting(db, "customer:7", now=3600) is None
    backoff.clear(db, "customer:7")
    assert backoff.note(db, "customer:7", now=0, rand=1.0) == 30


def test_waits_are_listed_soonest_first_with_the_next_try_time(firm):
    db = firm.db
    backoff.note(db, "close_date", now=1_000_000, rand=1.0)
    backoff.note(db, "customer:3", "no name", now=1_000_000, rand=1.0)
    backoff.note(db, "customer:3", "no name", now=1_000_000, rand=1.0)
    listed = backoff.waits(db, now=1_000_000)
    assert [(w["name"], w["attempt"], w["wait_seconds"]) for w in listed] == [("close_date", 1, 30),
                                                                            ("customer:3", 2, 60)]
    assert listed[0]["next_try_at"] == "1970-01-12T13:47:10+00:00"
    assert backoff.next_due(db, now=1_000_000) == 30 and backoff.next_due(db, now=1_000_000, skip="close_date") == 60
    assert backoff.waits(db, now=1_000_060) == [] and backoff.next_due(db, now=1_000_060) is None


def test_a_watching_sync_backs_off_while_nothing_can_go_and_starts_over_when_something_does(firm):
    db = firm.db
    waits = [backoff.after_run(db, pushed=0, waiting=4, first=30, now=0, rand=1.0) for _ in range(9)]
    assert waits == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert backoff.waits(db, now=0)[0]["name"] == "watch"
    assert backoff.after_run(db, pushed=2, waiting=4, first=30, now=0) == 30
    assert backoff.waiting(db, "watch", now=0) is None
    assert backoff.after_run(db, pushed=0, waiting=0, first=30, now=0) == 30  # nothing waits: the plain period
    for _ in range(6):
        backoff.after_run(db, pushed=0, waiting=1, first=30, now=0, rand=1.0)
    backoff.note(db, "customer:9", "refused", now=0, rand=1.0)  # a client's lookup is due in 30 s
    assert backoff.after_run(db, pushed=0, waiting=1, first=30, now=0, rand=1.0) == 30


def test_a_request_that_failed_for_now_is_replayed_after_a_growing_jittered_wait(firm):
    import time

    from core.errors import TransientError
    from core.qbo import sync_store as S
    from core.qbo.sync_dispatch import Dispatcher

    dispatch = Dispatcher(firm.db, None, store_outcomes=None, follow_up=None, max_backoff=60.0)
    item = {"kind": "customer", "doc_type": "customer", "doc_id": 1, "label": "Customer A"}
    pending = S.Pending("rid-1", False, {}, [item])
    gaps = []
    for _ in range(2):  # the third failure in a run leaves the request for the next run
        before = time.time()
        dispatch._transient(pending, TransientError("503"))
        gaps.append(dispatch.traffic.retry_later.pop()[0] - before)
    assert 1.0 <= gaps[0] <= 2.1 and 2.0 <= gaps[1] <= 4.1  # 2 s, then 4 s, each drawn in [half, all]


async def test_a_client_whose_customer_qbo_refuses_costs_no_read_until_its_wait_is_over(firm, qbo):
    from core.errors import PermanentError
    from core.qbo.sync import SyncEngine

    from .conftest import MappedSources
    from .test_engine import one_invoice

    one_invoice(firm)
    real = qbo._do

    def refuse_customers(op, entity, body):
        if entity == "Customer" and op == "create":
            raise PermanentError("Duplicate Name Exists Error", code="6240", status=400)
        return real(op, entity, body)

    qbo._do = refuse_customers
    run = lambda: SyncEngine(firm.db, qbo, MappedSources(firm), max_backoff=0.0).run()  # noqa: E731
    first = await run()
    assert first.parked == 1 and first.pushed == 0
    calls = qbo.calls
    for _ in range(3):  # sync --watch waking every 30 s
        again = await run()
        assert again.parked == 1
    assert qbo.calls == calls  # neither a query nor a create while the wait lasts
    client = firm.db.execute("SELECT id FROM contacts WHERE kind = 'client'").fetchone()[0]
    assert 15 <= backoff.waiting(firm.db, f"customer:{client}")["wait"] <= 30
    backoff.clear(firm.db, f"customer:{client}")
    await run()
    assert qbo.calls > calls
