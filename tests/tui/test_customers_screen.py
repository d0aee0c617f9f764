"""The customers screen: a client waiting on a QBO customer of the same name is decided from the keyboard (link,
new, or another customer picked by search), each after a confirmation naming both sides; the monitor's f on a
document parked for its customer opens the screen on that client; the documents then go with the next sync."""

from __future__ import annotations

import pytest

from core.ledger.firm import grant_role
from core.services import customers, ledger
from core.services import sync as sync_service
from core.services.context import open_firm
from tui.app import create_app
from tui.modals.confirm import ConfirmModal
from tui.modals.picker import PickerModal
from tui.screens.customers import CustomersScreen
from tui.screens.monitor import SyncMonitorScreen, waits_text
from tui_helpers import connected_and_mapped, first_invoice_lines, for_sandbox, screen_text, settle


async def _in_qbo(firm, act):
    from core.qbo.connect import open_client

    client = await open_client(firm)
    try:
        return await act(client)
    finally:
        await client.aclose()


async def waiting_firm(settings, body_extra=None):
    """A QBO customer "Cool Cars" made in QuickBooks, a ledger client of that name with another e-mail and an
    invoice, one sync: the invoice is parked until the admin decides. Returns (client id, their QBO id, other id)."""
    firm = open_firm(settings)
    try:
        theirs = await _in_qbo(firm, lambda c: c.create("Customer", {
            "DisplayName": "Cool Cars", "PrimaryEmailAddr": {"Address": "sales@othercars.example"}}, requestid=None))
        other = await _in_qbo(firm, lambda c: c.create("Customer", {"DisplayName": "Cool Cars Pty Ltd"},
                                                         requestid=None))
        client = ledger.add_client(firm, "Cool Cars", email="office@coolcars.example").id
        ledger.create_invoice(firm, client_id=client, date="2026-11-02", lines=first_invoice_lines(firm))
        summary = await sync_service.run_sync(firm)
        assert (summary.pushed, summary.parked) == (0, 1), summary.as_json()
        return client, theirs["Id"], other["Id"]
    finally:
        firm.close()


@pytest.fixture
def sb(connected_copy):
    return connected_copy("tui-AU", connected_and_mapped, for_sandbox)


def _invoice_customer(sb_, settings) -> str | None:
    from core.qbo import store

    firm = open_firm(settings)
    try:
        realm = store.load_connection(firm.db).realm_id
    finally:
        firm.close()
    invoices = sb_.state.entities(realm, "Invoice")
    return invoices[0]["CustomerRef"]["value"] if invoices else None


async def test_f_on_the_parked_invoice_opens_the_client_and_l_links_it_then_the_invoice_goes(sb):
    settings, sandbox = sb
    client, theirs, _ = await waiting_firm(settings)
    app = create_app(settings, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, SyncMonitorScreen)
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, CustomersScreen)
        assert app.screen.highlighted().client_id == client
        text = screen_text(app)
        assert "1 client(s) wait for your decision" in text
        assert "Matches by the same display name; a different e-mail address." in text
        assert "sales@othercars.example" in text and "office@coolcars.example" in text
        await pilot.press("l")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        question = app.screen.question
        assert f"Cool Cars (client #{client}, office@coolcars.example)" in question
        assert f"Cool Cars (QuickBooks #{theirs}, sales@othercars.example, open balance 0.00 AUD)" in question
        await pilot.press("y")
        await settle(pilot)
        assert [i.qbo_id for i in customers.list_customers(app.firm) if i.client_id == client] == [theirs]
        assert "No client waits for a decision" in screen_text(app)
        await pilot.press("f4", "y")
        await settle(pilot)
        assert sync_service.queue_counts(app.firm).parked == 0
    assert _invoice_customer(sandbox, settings) == theirs


async def test_n_gives_a_new_customer_named_apart_and_slash_picks_another_by_search(sb):
    settings, sandbox = sb
    client, theirs, other = await waiting_firm(settings)
    app = create_app(settings, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f9")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        assert "a new QuickBooks customer named Cool Cars (2) instead of linking it to Cool Cars (QuickBooks " \
               f"#{theirs})" in app.screen.question
        await pilot.press("n")  # declined: nothing decided
        await settle(pilot)
        assert [i.state for i in customers.list_customers(app.firm) if i.client_id == client] == ["proposed"]

        await pilot.press("slash")
        await settle(pilot)
        assert isinstance(app.screen, PickerModal)
        await pilot.press(*"cars", "space", *"pty")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal), screen_text(app)
        assert f"to the QuickBooks customer Cool Cars Pty Ltd (QuickBooks #{other}" in app.screen.question
        await pilot.press("y")
        await settle(pilot)
        assert [i.qbo_id for i in customers.list_customers(app.firm) if i.client_id == client] == [other]
        await pilot.press("f4", "y")
        await settle(pilot)
    assert _invoice_customer(sandbox, settings) == other


async def test_a_bookkeeper_is_refused_by_the_service_and_nothing_changes(sb, monkeypatch):
    settings, _ = sb
    client, _, _ = await waiting_firm(settings)
    firm = open_firm(settings)
    try:
        grant_role(firm, "clerk", "bookkeeper")
    finally:
        firm.close()
    monkeypatch.setenv("LEDGERLINK_USER", "clerk")
    app = create_app(settings, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f9")
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        said = " ".join(str(n.message) for n in app._notifications)
        assert "Only an admin can link clients to QuickBooks customers" in said
        assert [i.state for i in customers.list_customers(app.firm) if i.client_id == client] == ["proposed"]


def test_the_monitor_shows_the_next_try_of_the_soonest_wait():
    waits = [{"name": "customer:12", "reason": "refused", "attempt": 3, "wait_seconds": 118.4,
              "next_try_at": "2026-11-16T09:05:10+00:00"},
             {"name": "watch", "reason": "", "attempt": 1, "wait_seconds": 30, "next_try_at": "2026-11-16T09:06:00"}]
    assert waits_text(waits) == ("Next try: client 12's customer at 09:05:10 UTC, after a 2 min wait (try 3) "
                                 "(+1 more)")
    assert waits_text(waits[1:]).startswith("Next try: the next run at 09:06:00 UTC, after a 30 s wait (try 1)")
    assert waits_text([]) == ""


SIZES = [(80, 24), (120, 40)]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_customers_snapshots(snap_compare, sb, size):
    import asyncio

    settings, _ = sb
    asyncio.run(waiting_firm(settings))

    async def navigate(pilot):
        await settle(pilot)
        await pilot.press("f9")
        await settle(pilot)

    assert snap_compare(create_app(settings, still=True), terminal_size=size, run_before=navigate)


def test_a_linked_clients_detail_lists_its_matters_sub_customers():
    from core.qbo.customers import Identity
    from tui.screens.customers import detail_text

    ident = Identity(3, "Harper Holdings", "Harper Holdings", "linked", "58", "alice")
    jobs = [{"display_name": "M-11 Sale of 2 Mill Lane", "qbo_id": "60"},
            {"display_name": "M-12 Lease- Unit 4", "qbo_id": None}]
    text = detail_text(ident, "ap@harper.example", jobs)
    assert "QuickBooks: Harper Holdings (#58), linked by alice" in text
    assert text.endswith("Sub-customers: M-11 Sale of 2 Mill Lane #60, M-12 Lease- Unit 4 (next sync)")


async def test_j_switches_matters_as_sub_customers_and_shows_the_refusal_once_documents_are_synced(sb):
    settings, _ = sb
    app = create_app(settings, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f9")
        await settle(pilot)
        await pilot.press("j")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal) and "sub-customer" in app.screen.question
        await pilot.press("y")
        await settle(pilot)
        assert customers.matters_as_jobs(app.firm) is True
        assert "Matters go to QuickBooks as sub-customers (j)." in screen_text(app)
        client = ledger.add_client(app.firm, "Synced Ltd").id
        ledger.create_invoice(app.firm, client_id=client, date="2026-11-02", lines=first_invoice_lines(app.firm))
        assert (await sync_service.run_sync(app.firm)).pushed == 1
        await pilot.press("j", "y")
        await settle(pilot)
        said = " ".join(str(n.message) for n in app._notifications)
        assert "matters_as_jobs: 1 document(s) are already in QuickBooks" in said
        assert customers.matters_as_jobs(app.firm) is True


async def test_the_monitor_shows_the_next_try_of_a_wait_outside_snapshots(sb):
    from core.qbo import backoff

    settings, _ = sb
    firm = open_firm(settings)
    try:
        backoff.note(firm.db, "customer:5", "QuickBooks refused the name", rand=1.0)
    finally:
        firm.close()
    app = create_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, SyncMonitorScreen)
        shown = str(app.screen.query_one("#waits").render())
        assert shown.startswith("Next try: client 5's customer at ") and "after a 30 s wait (try 1)" in shown
