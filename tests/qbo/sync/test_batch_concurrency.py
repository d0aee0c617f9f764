"""Against an unthrottled sandbox the engine keeps as many batches in flight as its limiter allows (10),
not a fixed two: with a slow QBO a large push takes a couple of round trips, not one per pair of batches."""

from __future__ import annotations

from core.sandbox import api
from core.services import sync

from .sandboxed import demo_firm, sandbox_settings


async def test_batches_go_side_by_side_up_to_the_in_flight_limit(settings, sandbox, monkeypatch):
    firm = await demo_firm(sandbox_settings(settings, sandbox, batch_size=10), sandbox, invoices=150, payments=0,
                           credits=0, clients=10)
    sandbox.state.set_limits("off")
    sandbox.state.set_faults("latency=0.2@1")
    seen = {"now": 0, "peak": 0, "batches": 0}
    after_admission = api._after_admission

    async def counting(state, company, request, rest, payload, grant):
        if rest.lower() != "batch":
            return await after_admission(state, company, request, rest, payload, grant)
        seen["now"] += 1
        seen["batches"] += 1
        seen["peak"] = max(seen["peak"], seen["now"])
        try:
            return await after_admission(state, company, request, rest, payload, grant)
        finally:
            seen["now"] -= 1

    monkeypatch.setattr(api, "_after_admission", counting)
    try:
        summary = await sync.run_sync(firm)
        assert summary.ok, summary.as_json()
    finally:
        sandbox.state.set_faults(None)
        firm.close()
    assert seen["batches"] >= 15  # about 150 invoices in batches of 10
    assert 8 <= seen["peak"] <= 10, seen  # side by side, never over the limiter's 10 in flight
