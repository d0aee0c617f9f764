"""Accounts and tax rates after set-up: add, rename, deactivate/reactivate; a used account is never deleted; a used
rate's percentage never changes; components add up and have a liability account; every change is audit-logged and
needs an admin."""

from __future__ import annotations

import pytest

from core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.services import accounts as A
from core.services import ledger as L
from core.services.context import open_firm


def audit_rows(firm, action: str) -> list:
    return [e for e in L.list_audit(firm, limit=1000) if e.action == action]


# -- accounts -------------------------------------------------------------------------------------

def test_add_account_names_the_field_of_each_problem(ready):
    f = ready.firm
    with pytest.raises(Conflict, match=r"^code: Account code 4000 is already used by 4000 "):
        A.add_account(f, code="4000", name="Again", type="Income", subtype="fee_income")
    with pytest.raises(ValidationError) as info:
        A.add_account(f, code="4990", name="  ", type="Income")
    assert str(info.value) == "name: an account needs a name"
    with pytest.raises(ValidationError) as info:
        A.add_account(f, code="", name="X", type="Incoem")
    assert info.value.problems[0] == "code: an account needs a code"
    assert info.value.problems[1].startswith("type: 'Incoem' is not an account type (Bank, ")
    acc = A.add_account(f, code="4990", name="Fees - Mediation", type="Income", subtype="fee_income")
    assert acc.active and A.find_account(f, "4990") == acc
    assert audit_rows(f, "add_account")[0].detail == "4990 Fees - Mediation (Income, fee_income)"


def test_rename_keeps_code_and_history_and_is_audited(ready):
    f = ready.firm
    ready.invoice()
    before = L.account_balance(f, ready.fees)
    old = L.get_account(f, ready.fees).name
    acc = A.rename_account(f, ready.fees, "Legal Fees - General")
    assert (acc.code, acc.name) == ("4000", "Legal Fees - General")
    assert L.account_balance(f, ready.fees) == before
    assert [e.detail for e in audit_rows(f, "rename_account")] == [f"4000: {old} -> Legal Fees - General"]
    with pytest.raises(ValidationError, match="^name: an account needs a name$"):
        A.rename_account(f, ready.fees, "")
    with pytest.raises(NotFound):
        A.rename_account(f, 999999, "X")


def test_a_used_account_is_never_deleted_and_says_what_uses_it(ready):
    f = ready.firm
    ready.invoice()
    with pytest.raises(Conflict) as info:
        A.delete_account(f, ready.fees)
    text = str(info.value)
    assert text.startswith("Account 4000 ")
    assert "posted journal line" in text and "invoice line" in text and "Deactivate it instead" in text
    with pytest.raises(Conflict, match="bank account"):
        A.delete_account(f, ready.bank_gl)
    with pytest.raises(Conflict, match=r"tax rate.*Sample State Sales Tax"):
        A.delete_account(f, ready.tax_gl)
    assert L.get_account(f, ready.fees).code == "4000"  # nothing was deleted
    assert not audit_rows(f, "delete_account")


def test_a_mapped_account_is_not_deleted_and_an_unused_one_is(ready):
    f = ready.firm
    acc = A.add_account(f, code="4991", name="Typo account", type="Income", subtype="fee_income")
    f.db.execute("INSERT INTO qbo_maps (kind, ledger_id, qbo_id, set_at, set_by) VALUES ('sales', ?, '7', 'x', 'y')",
                 [acc.id])
    f.db.conn.commit()
    with pytest.raises(Conflict, match="1 QuickBooks map .Sales invoice account map."):
        A.delete_account(f, acc.id)
    f.db.execute("DELETE FROM qbo_maps WHERE ledger_id = ?", [acc.id])
    f.db.conn.commit()
    assert A.account_uses(f, acc.id) == ()
    A.delete_account(f, acc.id)
    with pytest.raises(NotFound):
        A.find_account(f, "4991")
    assert audit_rows(f, "delete_account")[0].detail == "4991 Typo account"


def test_deactivate_hides_from_new_documents_keeps_history_and_reactivates(ready):
    f = ready.firm
    ready.invoice()
    balance = L.trial_balance(f)
    A.deactivate_account(f, ready.fees)
    assert not L.get_account(f, ready.fees).active
    assert ready.fees not in [a.id for a in L.list_accounts(f, active_only=True)]
    assert L.trial_balance(f) == balance  # still in the reports
    with pytest.raises(ValidationError, match="account 4000 .* is inactive"):
        ready.invoice()
    A.reactivate_account(f, ready.fees)
    ready.invoice()
    assert [e.detail.split(": ")[-1] for e in audit_rows(f, "set_account_active")] == ["active", "inactive"]


def test_an_account_a_bank_account_or_an_active_rate_posts_to_stays_active(ready):
    f = ready.firm
    with pytest.raises(Conflict, match="ledger account of the bank account"):
        A.deactivate_account(f, ready.bank_gl)
    with pytest.raises(Conflict, match=r"liability account of the active tax rate Sample State Sales Tax \(6.25%\)"):
        A.deactivate_account(f, ready.tax_gl)
    A.deactivate_tax_rate(f, ready.state)
    A.deactivate_account(f, ready.tax_gl)
    with pytest.raises(ValidationError, match="posts to the inactive account 2200"):
        A.reactivate_tax_rate(f, ready.state)


def test_a_bookkeeper_cannot_change_the_chart(ready, settings, monkeypatch):
    L.grant_role(ready.firm, "bob", "bookkeeper")
    monkeypatch.setenv("LEDGERLINK_USER", "bob")
    bob = open_firm(settings)
    try:
        for call in (lambda: A.add_account(bob, code="4992", name="X", type="Income"),
                     lambda: A.rename_account(bob, ready.fees, "X"),
                     lambda: A.deactivate_account(bob, ready.fees2),
                     lambda: A.rename_tax_rate(bob, ready.state, "X"),
                     lambda: A.deactivate_tax_rate(bob, ready.state)):
            with pytest.raises(PermissionDenied, match="Only an admin can .* user 'bob' is a bookkeeper"):
                call()
    finally:
        bob.close()
    assert L.get_account(ready.firm, ready.fees).name != "X"


# -- tax rates ------------------------------------------------------------------------------------

def test_components_must_add_up_and_each_needs_a_liability_account(ready):
    f = ready.firm
    pst = A.add_account(f, code="2210", name="PST payable", type="Other Current Liability", subtype="sales_tax")
    with pytest.raises(ValidationError, match=r"add up to 11%, not the rate's 12%: GST 5% \+ PST 6%"):
        A.add_tax_rate(f, "GST/PST", "12", components=[("GST", "5", ready.tax_gl), ("PST", "6", pst.id)])
    with pytest.raises(ValidationError, match=r"^component 2 \(PST\) has no liability account"):
        A.add_tax_rate(f, "GST/PST", "12", components=[("GST", "5", ready.tax_gl), ("PST", "7", None)])
    rate = A.add_tax_rate(f, "GST/PST", "12", components=[("GST", "5", ready.tax_gl), ("PST", "7", pst.id)])
    assert [(c.name, c.rate_percent, c.tax_account_id) for c in rate.components] == [
        ("GST", "5", ready.tax_gl), ("PST", "7", pst.id)]
    assert audit_rows(f, "add_tax_rate")[0].detail == "GST/PST 12%"


def test_an_unused_rate_may_change_a_used_one_never(ready):
    f = ready.firm
    rate = A.add_tax_rate(f, "City tax", "2")
    changed = A.change_tax_rate(f, rate.id, "2.5")
    assert changed.rate_percent == "2.5" and [c.rate_ppm for c in changed.components] == [25000]
    assert audit_rows(f, "change_tax_rate")[0].detail == "City tax: 2% -> City tax 2.5%"

    inv = ready.invoice()
    with pytest.raises(Conflict) as info:
        A.change_tax_rate(f, ready.state, "7")
    assert str(info.value) == (
        "Tax rate Sample State Sales Tax (6.25%) is used by 1 invoice line: its percentage (6.25%) cannot change, "
        "because posted history is never rewritten. Deactivate it and add a new rate of 7% instead")
    assert L.get_tax_rate(f, ready.state).rate_percent == "6.25"
    assert L.get_invoice(f, inv.id).tax_minor == inv.tax_minor
    # what the message offers works: deactivate, then add the new rate
    A.deactivate_tax_rate(f, ready.state)
    new = A.add_tax_rate(f, "State Sales Tax (7%)", "7")
    assert new.active and not L.get_tax_rate(f, ready.state).active
    # the same percentage again is not a change
    assert A.change_tax_rate(f, ready.state, "6.25").rate_percent == "6.25"


def test_rename_and_deactivate_a_rate(ready):
    f = ready.firm
    with pytest.raises(Conflict, match="^name: there is already a tax rate named 'No Sales Tax \\(0%\\)'"):
        A.rename_tax_rate(f, ready.state, "No Sales Tax (0%)")
    with pytest.raises(ValidationError, match="^name: a tax rate needs a name$"):
        A.rename_tax_rate(f, ready.state, " ")
    A.rename_tax_rate(f, ready.state, "State tax")
    A.deactivate_tax_rate(f, ready.state)
    assert ready.state not in [r.id for r in L.list_tax_rates(f, active_only=True)]
    assert [e.action for e in L.list_audit(f, limit=2)] == ["set_tax_rate_active", "rename_tax_rate"]
    assert A.find_tax_rate(f, "State tax").id == ready.state
    with pytest.raises(NotFound, match="tax-rates list"):
        A.find_tax_rate(f, "Nope")


def test_rows_say_what_is_used_and_which_map(ready):
    f = ready.firm
    ready.invoice()
    rows = {r.account.code: r for r in A.account_rows(f)}
    assert rows["4000"].map_kind == "sales" and rows["4000"].map_status == "unmapped" and rows["4000"].uses
    assert rows["1000"].map_kind == "gl" and rows["1000"].uses[0].what in ("journal", "bank_account")
    assert rows["4010"].uses == ()
    rates = {r.rate.id: r for r in A.tax_rate_rows(f)}
    assert rates[ready.state].frozen and not rates[ready.zero].frozen
    assert rates[ready.state].as_json()["used"] is True


def test_an_inactive_account_that_keeps_its_mapping_is_flagged_and_a_new_one_is_unmapped(ready):
    f = ready.firm
    f.db.execute("INSERT INTO qbo_maps (kind, ledger_id, qbo_id, set_at, set_by) VALUES ('sales', ?, '7', 'x', 'y')",
                 [ready.fees2])
    f.db.conn.commit()
    A.deactivate_account(f, ready.fees2)
    rows = {r.account.id: r for r in A.account_rows(f)}
    assert rows[ready.fees2].map_status == A.LEDGER_INACTIVE and rows[ready.fees2].as_json()["active"] is False
    new = A.add_account(f, code="4993", name="Fees - Notarial", type="Income", subtype="fee_income")
    assert {r.account.id: r for r in A.account_rows(f)}[new.id].map_status == "unmapped"
    assert ready.fees2 not in [r.account.id for r in A.account_rows(f, include_inactive=False)]
