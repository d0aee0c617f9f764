"""Customer identity without a sync: proposals from the reference cache, the admin's decisions, names that QBO's
character rules make equal ("X: Estate" and "X- Estate"), and the CLI."""

from __future__ import annotations

import json

import pytest

from core.cli import main
from core.errors import Conflict, PermissionDenied
from core.ledger import demo
from core.ledger.firm import add_client, create_firm, grant_role
from core.qbo.customers import remember_customer
from core.services import customers


@pytest.fixture(autouse=True)
def _user(monkeypatch):
    monkeypatch.setenv("LEDGERLINK_USER", "alice")


@pytest.fixture
def firm(settings):
    f = create_firm(settings, "US", name="Test & Co")
    demo.ensure_ready(f)
    yield f
    f.close()


def qbo_customer(firm, id_: str, name: str, email: str | None = None, balance: str = "0", active: bool = True):
    obj = {"Id": id_, "SyncToken": "0", "DisplayName": name, "Balance": balance, "Active": active}
    if email:
        obj["PrimaryEmailAddr"] = {"Address": email}
    remember_customer(firm.db, obj)


def by_client(firm) -> dict:
    return {i.client_name: i for i in customers.list_customers(firm)}


def test_a_qbo_customer_of_the_same_name_is_proposed_with_email_balance_and_why_never_linked(firm):
    add_client(firm, "Cool Cars", email="office@coolcars.example")
    qbo_customer(firm, "58", "Cool Cars", "sales@othercars.example", "120.50")
    ident = by_client(firm)["Cool Cars"]
    assert ident.state == "proposed" and ident.qbo_id is None
    p = ident.proposal
    assert (p.customer.id, p.customer.email, p.customer.balance_minor) == ("58", "sales@othercars.example", 12050)
    assert p.why == ("same_display_name", "different_email")
    assert firm.db.execute("SELECT count(*) FROM sync_customers WHERE qbo_id IS NOT NULL").fetchone() == (0,)
    assert [x.client_name for x in customers.proposals(firm)] == ["Cool Cars"]


def test_the_admin_links_or_asks_for_a_new_customer_and_one_qbo_customer_serves_one_client(firm, monkeypatch):
    a = add_client(firm, "Cool Cars").id
    b = add_client(firm, "Cool Cars Ltd").id
    qbo_customer(firm, "58", "Cool Cars")
    grant_role(firm, "bob", "bookkeeper")
    monkeypatch.setattr(firm, "user", "bob")
    with pytest.raises(PermissionDenied, match="Only an admin"):
        customers.link_customer(firm, a, "58")
    monkeypatch.setattr(firm, "user", "alice")
    linked = customers.link_customer(firm, "Cool Cars", "58")
    assert (linked.state, linked.qbo_id, linked.decided_by) == ("linked", "58", "alice")
    with pytest.raises(Conflict, match="already the client Cool Cars's; one QuickBooks customer serves one client"):
        customers.link_customer(firm, b, "Cool Cars")
    assert by_client(firm)["Cool Cars Ltd"].state == "will_create"


def test_a_new_customer_gets_a_name_nobody_uses(firm):
    cid = add_client(firm, "Cool Cars").id
    qbo_customer(firm, "58", "Cool Cars")
    qbo_customer(firm, "59", "Cool Cars (2)")
    ident = customers.new_customer(firm, cid)
    assert (ident.state, ident.display_name) == ("new", "Cool Cars (3)")
    assert by_client(firm)["Cool Cars"].proposal is None


def test_names_equal_after_qbo_rules_are_told_apart_and_the_exact_name_keeps_it(firm):
    colon = add_client(firm, "X: Estate").id
    dash = add_client(firm, "X- Estate").id
    tab = add_client(firm, "X-\tEstate").id
    idents = {i.client_id: i for i in customers.list_customers(firm)}
    assert idents[dash].display_name == "X- Estate" and idents[dash].renamed == ()
    assert idents[colon].display_name == "X- Estate (2)"
    assert idents[tab].display_name == "X- Estate (3)"
    assert any("':' is not allowed" in r for r in idents[colon].renamed)
    assert any("numbered to tell them apart" in r for r in idents[colon].renamed)
    names = [i.display_name.casefold() for i in idents.values()]
    assert len(names) == len(set(names))
    # a QBO customer "X- Estate" is proposed to the client whose name it is, not to "X: Estate"
    qbo_customer(firm, "70", "X- Estate")
    idents = {i.client_id: i for i in customers.list_customers(firm)}
    assert idents[dash].state == "proposed" and idents[colon].state == "will_create"


def test_customers_cli(firm, settings, capsys):
    add_client(firm, "Cool Cars", email="office@coolcars.example")
    add_client(firm, "X: Estate")
    qbo_customer(firm, "58", "Cool Cars", "office@coolcars.example", "10")
    firm.close()
    db = str(settings.db)
    assert main(["--db", db, "customers", "list"]) == 0
    out = capsys.readouterr().out
    assert "Cool Cars  ->  Cool Cars  [WAITS: same name in QuickBooks]" in out
    assert "open balance 10.00 USD; matches by the same display name; the same e-mail address" in out
    assert "X: Estate  ->  X- Estate  [new customer]" in out and "':' is not allowed" in out
    assert main(["--db", db, "customers", "list", "--proposed", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["proposed"] == 1 and data["customers"][0]["proposal"]["qbo_id"] == "58"
    assert main(["--db", db, "customers", "link", "Cool Cars", "58"]) == 0
    assert "linked to the QuickBooks customer Cool Cars (#58)" in capsys.readouterr().out
    assert main(["--db", db, "customers", "link", "X: Estate", "58", "--json"]) == 1
    err = json.loads(capsys.readouterr().out)
    assert err["ok"] is False and "one QuickBooks customer serves one client" in err["error"]
    assert main(["--db", db, "customers", "link", "Nobody", "58"]) == 1
    assert "There is no client 'Nobody'" in capsys.readouterr().err
    assert main(["--db", db, "customers", "new", "X: Estate"]) == 0
    assert "new QuickBooks customer named X- Estate" in capsys.readouterr().out


async def test_the_sync_plan_links_nobody_by_name_and_a_waiting_client_costs_no_read(firm):
    from core.qbo.customers import ensure

    cool = add_client(firm, "Cool Cars", email="office@coolcars.example").id
    fresh = add_client(firm, "Fresh Start LLP").id
    colon = add_client(firm, "X: Estate").id
    dash = add_client(firm, "X- Estate").id
    in_qbo = [{"Id": "58", "SyncToken": "0", "DisplayName": "Cool Cars", "Balance": "0", "Active": True}]
    asked: list[str] = []

    async def query(where):
        asked.append(where)
        return [c for c in in_qbo if f"'{c['DisplayName']}'" in where]

    plan = await ensure(firm.db, "USD", [cool, fresh, colon, dash], query)
    assert plan.linked == {}
    assert set(plan.waiting) == {cool} and plan.waiting[cool].qbo_id == "58"
    assert plan.waiting[cool].as_json()["code"] == "customer_unconfirmed"
    assert "ledgerlink customers link" in plan.waiting[cool].text()
    assert plan.create == {fresh: "Fresh Start LLP", dash: "X- Estate", colon: "X- Estate (2)"}
    assert len(asked) == 1

    asked.clear()
    again = await ensure(firm.db, "USD", [cool], query)
    assert set(again.waiting) == {cool} and asked == []
    customers.link_customer(firm, cool, "58")
    linked = await ensure(firm.db, "USD", [cool], query)
    assert linked.linked == {cool: "58"} and not linked.waiting and asked == []
