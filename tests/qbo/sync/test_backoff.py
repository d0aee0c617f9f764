"""Waits that cost metered reads back off: 30 s, doubling, at most an hour."""

from __future__ import annotations

from core.qbo import backoff


def test_a_wait_doubles_up_to_an_hour_and_a_clear_ends_it(firm):
    db = firm.db
    assert backoff.waiting(db, "customer:7", now=0) is None
    waits = [backoff.note(db, "customer:7", "stuck", now=0) for _ in range(9)]
    assert waits == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert backoff.waiting(db, "customer:7", now=3599)["reason"] == "stuck"
    assert backoff.waiting(db, "customer:7", now=3600) is None
    backoff.clear(db, "customer:7")
    assert backoff.note(db, "customer:7", now=0) == 30


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
    assert backoff.waiting(firm.db, f"customer:{client}")["wait"] == 30
    backoff.clear(firm.db, f"customer:{client}")
    await run()
    assert qbo.calls > calls
