"""The ledger lock date (admin only, audit-logged, nothing on or before it posted, edited, deleted or voided)
and voids (the document stays with its number and zero amounts; its posting is reversed)."""

from __future__ import annotations

import pytest

from core.cli import main
from core.errors import Conflict, PermissionDenied, ValidationError
from core.ledger import locks, voids
from core.services import ledger as L


def _balance(firm, account_id: int) -> int:
    return L.account_balance(firm, account_id)


def test_nothing_on_or_before_the_lock_date_is_posted_edited_deleted_or_voided(ready):
    firm = ready.firm
    old = ready.invoice(date="2026-01-15")
    pay = L.record_payment(firm, client_id=ready.client, date="2026-01-20", amount="10.00",
                           bank_account_id=ready.operating)
    tb_before = L.trial_balance(firm)
    assert locks.set_lock_date(firm, "2026-01-31") == "2026-01-31"

    attempts = [
        lambda: ready.invoice(date="2026-01-31"),
        lambda: L.edit_invoice(firm, old.id, lines=[dict(description="x", account_id=ready.fees, quantity="1",
                                                          unit_price="900.00", tax_rate_id=ready.zero)]),
        lambda: L.edit_invoice(firm, old.id, date="2026-03-01"),
        lambda: L.delete_payment(firm, pay.id),
        lambda: voids.void_payment(firm, pay.id),
        lambda: L.record_payment(firm, client_id=ready.client, date="2026-01-02", amount="1.00",
                                 bank_account_id=ready.operating),
        lambda: L.trust_receipt(firm, client_id=ready.client, amount="5.00", date="2025-12-31"),
    ]
    for attempt in attempts:
        with pytest.raises(ValidationError) as info:
            attempt()
        assert "2026-01-31" in info.value.message and "lock date" in info.value.message
        assert "after 2026-01-31" in info.value.message
    err = pytest.raises(ValidationError, lambda: L.edit_invoice(firm, old.id, date="2026-03-01")).value
    assert isinstance(err, locks.PeriodLocked)
    assert (err.locked.date, err.locked.lock_date) == ("2026-01-15", "2026-01-31")
    assert err.locked.what == f"Invoice {old.number}"
    assert L.trial_balance(firm) == tb_before  # nothing half-written
    assert L.get_invoice(firm, old.id).version == old.version

    new = ready.invoice(date="2026-02-01")  # the open period takes postings
    assert new.total_minor == old.total_minor


def test_only_an_admin_sets_the_lock_date_and_every_change_is_audited(ready, monkeypatch):
    firm = ready.firm
    L.grant_role(firm, "bob", "bookkeeper")
    monkeypatch.setattr(firm, "user", "bob")
    with pytest.raises(PermissionDenied, match="Only an admin can set the ledger lock date"):
        locks.set_lock_date(firm, "2026-01-31")
    monkeypatch.setattr(firm, "user", "alice")
    with pytest.raises(ValidationError, match="lock date '2026-02-30' is not a date"):
        locks.set_lock_date(firm, "2026-02-30")
    locks.set_lock_date(firm, "2026-01-31")
    locks.set_lock_date(firm, None)
    rows = [(a.action, a.detail) for a in L.list_audit(firm) if "lock_date" in a.action]
    assert rows[::-1] == [("set_lock_date", "none -> 2026-01-31"), ("clear_lock_date", "2026-01-31 -> none")]
    assert locks.lock_date(firm) is None


def test_lock_cli(ready, settings, capsys):
    db = str(settings.db)
    ready.firm.close()
    assert main(["--db", db, "lock", "show"]) == 0
    assert "no lock date" in capsys.readouterr().out
    assert main(["--db", db, "lock", "set", "2026-03-31"]) == 0
    assert "2026-03-31" in capsys.readouterr().out
    assert main(["--db", db, "lock", "show", "--json"]) == 0
    assert '"lock_date": "2026-03-31"' in capsys.readouterr().out
    assert main(["--db", db, "lock", "set", "31/03/2026"]) == 1
    assert "write it as YYYY-MM-DD" in capsys.readouterr().err


def test_a_voided_invoice_keeps_its_number_with_zero_amounts_and_its_posting_reversed(ready):
    firm = ready.firm
    inv = ready.invoice()
    ar_before = _balance(firm, ready.ar)
    voided = voids.void_invoice(firm, inv.id)
    assert (voided.number, voided.status, voided.total_minor, voided.open_balance_minor) == (
        inv.number, "voided", 0, 0)
    assert voided.lines == () and voided.version == inv.version + 1
    assert _balance(firm, ready.ar) == ar_before - inv.total_minor
    tb = L.trial_balance(firm)
    assert tb.total_debit_minor == tb.total_credit_minor
    assert [i.status for i in L.list_invoices(firm) if i.id == inv.id] == ["voided"]
    with pytest.raises(Conflict, match=f"Invoice {inv.number} was voided"):
        L.edit_invoice(firm, inv.id, date="2026-02-02")
    with pytest.raises(Conflict, match="was voided"):
        voids.void_invoice(firm, inv.id)
    queued = firm.db.execute("SELECT version, action, state FROM sync_queue WHERE doc_type = 'invoice' AND doc_id = ?",
                             [inv.id]).fetchone()
    assert queued == (inv.version + 1, "upsert", "queued")


def test_a_paid_invoice_is_voided_only_after_its_payment_and_a_voided_payment_reopens_it(ready):
    firm = ready.firm
    inv = ready.invoice()
    pay = L.record_payment(firm, client_id=ready.client, date="2026-02-03", amount="100.00",
                           bank_account_id=ready.operating)
    with pytest.raises(Conflict, match="1 payment and 0 credit notes applied; void or delete those first"):
        voids.void_invoice(firm, inv.id)
    vp = voids.void_payment(firm, pay.id)
    assert (vp.status, vp.amount_minor, vp.allocations) == ("voided", 0, ())
    assert L.get_invoice(firm, inv.id).open_balance_minor == inv.total_minor
    assert voids.void_invoice(firm, inv.id).status == "voided"


async def test_a_dry_run_sends_nothing_for_an_invoice_voided_before_it_reached_qbo(ready):
    from core.services import sync

    inv = ready.invoice()
    kept = ready.invoice(date="2026-02-02")
    voids.void_invoice(ready.firm, inv.id)
    previews = await sync.dry_run(ready.firm)
    assert [p.doc_id for p in previews if p.doc_type == "invoice"] == [kept.id]


def test_void_cli(ready, settings, capsys):
    inv = ready.invoice()
    ready.firm.close()
    db = str(settings.db)
    assert main(["--db", db, "void", "invoice", inv.number]) == 0
    assert f"Invoice {inv.number} is voided" in capsys.readouterr().out
    assert main(["--db", db, "void", "invoice", inv.number, "--json"]) == 1
    assert "was voided" in capsys.readouterr().out
    assert main(["--db", db, "void", "payment", "seven"]) == 1
    assert "'seven' is not a payment id" in capsys.readouterr().err
    assert main(["--db", db, "void", "invoice", "INV-99999"]) == 1
    assert "There is no invoice" in capsys.readouterr().err
