"""The sync against the sandbox over HTTP with access tokens of 5, 30 and 3600 s, while the token endpoint answers
5xx, 429, a body cut short or drops the connection: every document lands once, reconcile is clean, nothing is
rejected. A drop AFTER the token was rotated is survived when the sandbox returns the same refresh token for a day
(as Intuit describes it) and, under the stricter setting (every refresh token dead once used), stops with
"Reconnect to QuickBooks", loses nothing, and a reconnect finishes the job."""

from __future__ import annotations

from collections import Counter

import pytest

from core.ledger import billing
from core.ledger.firm import add_client
from core.qbo import store
from core.sandbox.oauth import configure
from core.services import qbo as qbo_services
from core.services import sync

from .sandboxed import fee_line, small_firm
from .test_sandbox_sync import qbo_objects


def post_invoices(firm, n: int, start: int = 0) -> list[str]:
    clients = [add_client(firm, f"Token Client {start + k}").id for k in range(2)]
    return [billing.create_invoice(firm, client_id=clients[k % 2], date="2026-11-02",
                                   lines=[fee_line(firm, f"{100 + start + k}.00")]).number for k in range(n)]


def assert_each_once(sb, firm, numbers: list[str]) -> None:
    held = Counter(i["DocNumber"] for i in qbo_objects(sb, firm, "Invoice"))
    assert {n: held[n] for n in numbers} == {n: 1 for n in numbers}
    assert [n for n, c in held.items() if c > 1] == []


@pytest.mark.parametrize("lifetime", [5, 30, 3600])
async def test_short_lived_tokens_and_a_faulty_token_endpoint_lose_nothing(settings, sandbox, lifetime):
    configure(sandbox.state, access_token_lifetime=lifetime)
    firm = await small_firm(settings, sandbox)
    try:
        first = store.load_connection(firm.db)
        assert first.access_lifetime == lifetime
        numbers = post_invoices(firm, 4)
        sandbox.state.set_faults("503@#1/oauth,429@#2/oauth,drop-before@#3/oauth,garbled@#4/oauth,500@#6/oauth")
        sandbox.state.advance(lifetime)  # every access token handed out so far has expired at QBO
        summary = await sync.run_sync(firm)
        assert summary.ok and summary.pushed >= 4 and not summary.stopped, summary.as_json()
        numbers += post_invoices(firm, 3, start=10)
        sandbox.state.advance(lifetime)
        summary = await sync.run_sync(firm)
        assert summary.ok and not summary.stopped, summary.as_json()
        assert all(rule.seen >= 5 for rule in sandbox.state.faults)  # the faults met the refreshes
        after = store.load_connection(firm.db)
        assert after.token_status == "ok" and after.refresh_token != first.refresh_token
        assert after.refresh_hard_expires_at and after.refresh_hard_expires_at > after.refresh_expires_at
        assert store.lease_holder(firm.db) is None
        sandbox.state.set_faults(None)
        assert_each_once(sandbox, firm, numbers)
        assert (await sync.reconcile(firm)).ok
    finally:
        firm.close()


async def test_a_drop_after_rotation_is_survived_when_the_refresh_token_is_kept_for_a_day(settings, sandbox):
    configure(sandbox.state, access_token_lifetime=5, refresh_rotation="daily")
    firm = await small_firm(settings, sandbox)
    try:
        numbers = post_invoices(firm, 3)
        sandbox.state.set_faults("drop-after@#1/oauth")
        sandbox.state.advance(5)
        summary = await sync.run_sync(firm)
        assert summary.ok and not summary.stopped, summary.as_json()
        assert store.load_connection(firm.db).token_status == "ok"
        assert_each_once(sandbox, firm, numbers)
        assert (await sync.reconcile(firm)).ok
    finally:
        firm.close()


async def test_a_drop_after_rotation_under_strict_rotation_says_reconnect_and_loses_nothing(settings, sandbox):
    configure(sandbox.state, access_token_lifetime=5)  # rotation "always": the token used is dead at once
    firm = await small_firm(settings, sandbox)
    try:
        numbers = post_invoices(firm, 3)
        sandbox.state.set_faults("drop-after@#1/oauth")
        sandbox.state.advance(5)
        summary = await sync.run_sync(firm)
        assert summary.stopped and summary.stopped.startswith("Reconnect to QuickBooks"), summary.as_json()
        assert "Traceback" not in summary.stopped
        counts = sync.queue_counts(firm)
        assert counts.parked == 0 and counts.sending == 0 and counts.queued >= 3
        assert store.load_connection(firm.db).token_status == "rejected"
        sandbox.state.set_faults(None)
        pending = qbo_services.begin_connect(firm)
        await qbo_services.complete_connect_async(firm, sandbox.approve(pending.url,
                                                                        realm_id=sandbox.realm_ids["UK"]))
        summary = await sync.run_sync(firm)
        assert summary.ok, summary.as_json()
        assert_each_once(sandbox, firm, numbers)
        assert (await sync.reconcile(firm)).ok
    finally:
        firm.close()


async def test_a_token_endpoint_down_for_the_whole_run_leaves_documents_waiting_and_the_token_kept(settings, sandbox):
    configure(sandbox.state, access_token_lifetime=30)
    firm = await small_firm(settings, sandbox)
    try:
        numbers = post_invoices(firm, 3)
        kept = store.load_connection(firm.db).refresh_token
        sandbox.state.set_faults("503@1/oauth")
        sandbox.state.advance(30)
        summary = await sync.run_sync(firm)
        assert not summary.stopped and summary.pushed == 0 and summary.waiting >= 3, summary.as_json()
        assert "sign-in service had a server error (HTTP 503)" in summary.message
        assert "Nothing was lost" in summary.message and "Traceback" not in summary.message
        counts = sync.queue_counts(firm)
        assert counts.parked == 0 and counts.sending == 0 and counts.queued >= 3
        conn = store.load_connection(firm.db)
        assert (conn.refresh_token, conn.token_status) == (kept, "ok")
        sandbox.state.set_faults(None)  # Intuit is back: the next run needs no reconnect
        summary = await sync.run_sync(firm)
        assert summary.ok, summary.as_json()
        assert_each_once(sandbox, firm, numbers)
    finally:
        firm.close()
