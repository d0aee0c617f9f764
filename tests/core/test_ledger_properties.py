"""Property tests: random sequences of postings, edits, deletions, payments, credits and trust moves.

After every sequence: every entry balances; the trial balance is zero; AR equals the sum of open
invoice balances, and each open balance equals total - payments - credits computed from the
documents; trust bank equals the sum of client trust balances and none is negative; posted journal
rows never changed; every changed document has exactly one queue row with its current version. A
refused operation leaves the database file byte-identical.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from core.errors import LedgerError
from core.ledger.demo import ensure_ready
from core.services import ledger as L
from core.services.context import open_firm
from core.settings import Settings

KINDS = ("invoice", "invoice", "invoice", "edit_invoice", "delete_invoice", "payment", "payment", "payment_trust",
         "edit_payment", "delete_payment", "credit", "writeoff", "edit_credit", "delete_credit", "trust_in",
         "trust_out")
OPS = st.lists(st.tuples(st.sampled_from(KINDS), st.integers(0, 9), st.integers(1, 250_000)), min_size=4, max_size=30)


@pytest.fixture(scope="module")
def template_db(tmp_path_factory):
    """A ready firm with three clients, built once and copied for each example."""
    path = tmp_path_factory.mktemp("tpl") / "firm.db"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LEDGERLINK_USER", "alice")
        firm = L.create_firm(Settings(_env_file=None, db=path), "CA", name="Property Law LLP")
    ensure_ready(firm)
    for name in ("Ayla Chen", "Bruno Rossi", "Cora Singh"):
        L.add_matter(firm, L.add_client(firm, name).id, "General")
    firm.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    firm.close()
    return path


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    for p in (path, Path(str(path) + "-wal")):
        h.update(p.read_bytes() if p.exists() else b"")
    return h.hexdigest()


def _money(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"


def _apply(firm, kind: str, k: int, n: int, ids: dict) -> None:
    clients = [c.id for c in L.list_clients(firm)]
    client = clients[k % len(clients)]
    fees = [a.id for a in L.list_accounts(firm, subtypes=["fee_income", "expense_recovery"])]
    rates = [r.id for r in L.list_tax_rates(firm)]
    operating = L.list_bank_accounts(firm, "operating")[0].id
    pick = lambda seq: seq[k % len(seq)] if seq else None  # noqa: E731
    inv = pick(ids["invoice"])
    pay, cred = pick(ids["payment"]), pick(ids["credit_note"])
    if kind == "invoice":
        lines = [dict(description=f"Work {i}", account_id=fees[(k + i) % len(fees)], quantity=f"{(n % 7) + 0.25:g}",
                      unit_price=_money(n // (i + 1)), tax_rate_id=rates[(n + i) % len(rates)])
                 for i in range(1 + n % 3)]
        ids["invoice"].append(L.create_invoice(firm, client_id=client, date="2026-03-01", lines=lines).id)
    elif kind == "edit_invoice" and inv:
        L.edit_invoice(firm, inv, lines=[dict(description="Revised", account_id=fees[0], quantity=1,
                                              unit_price=_money(n), tax_rate_id=rates[k % len(rates)])])
    elif kind == "delete_invoice" and inv:
        L.delete_invoice(firm, inv)
    elif kind in ("payment", "payment_trust") and inv:
        i = L.get_invoice(firm, inv)
        amount = max(1, i.open_balance_minor * (n % 100 + 1) // 100)
        ids["payment"].append(L.record_payment(
            firm, client_id=i.client_id, date="2026-03-05", amount=_money(amount), bank_account_id=operating,
            allocations=[(inv, _money(amount))], from_trust=kind == "payment_trust").id)
    elif kind == "edit_payment" and pay:
        L.edit_payment(firm, pay, amount=_money(n // 10 + 1))
    elif kind == "delete_payment" and pay:
        L.delete_payment(firm, pay)
    elif kind in ("credit", "writeoff") and inv:
        i = L.get_invoice(firm, inv)
        ids["credit_note"].append(L.issue_credit_note(
            firm, invoice_id=inv, kind=kind, date="2026-03-06",
            amount=_money(max(1, i.open_balance_minor * (n % 100 + 1) // 110))).id)
    elif kind == "edit_credit" and cred:
        L.edit_credit_note(firm, cred, amount=_money(n // 20 + 1))
    elif kind == "delete_credit" and cred:
        L.delete_credit_note(firm, cred)
    elif kind == "trust_in":
        ids["trust"].append(L.trust_receipt(firm, client_id=client, amount=_money(n), date="2026-03-02").id)
    elif kind == "trust_out":
        ids["trust"].append(L.trust_disbursement(firm, client_id=client, amount=_money(n // 3 + 1),
                                                 date="2026-03-03").id)


def _check_invariants(firm, changed: set) -> None:
    db = firm.db
    assert db.execute("SELECT count(*) FROM (SELECT entry_id FROM journal_lines GROUP BY entry_id "
                      "HAVING sum(amount_minor) != 0)").fetchone()[0] == 0
    tb = L.trial_balance(firm)
    assert tb.total_debit_minor == tb.total_credit_minor
    assert db.execute("SELECT coalesce(sum(amount_minor), 0) FROM journal_lines").fetchone()[0] == 0
    invoices = L.list_invoices(firm)
    ar = L.account_balance(firm, L.get_account_by_code(firm, "1200").id)
    # an overpayment is the client's credit on account: receivable with no invoice (negative AR)
    credits = [c.credit_minor for c in L.client_credits(firm)]
    assert all(c > 0 for c in credits)
    assert ar == sum(i.open_balance_minor for i in invoices) - sum(credits)
    for i in invoices:
        if i.status == "deleted":
            assert i.open_balance_minor == 0
            continue
        paid = sum(a.amount_minor for p in L.list_payments(firm, status="posted") for a in p.allocations
                   if a.invoice_id == i.id)
        credited = sum(c.total_minor for c in L.list_credit_notes(firm, invoice_id=i.id, status="posted"))
        assert i.open_balance_minor == i.total_minor - paid - credited >= 0
    trust = L.trust_ledger(firm)
    assert trust.trust_bank_minor == trust.client_total_minor
    assert all(b.balance_minor >= 0 for b in trust.balances)
    queue = {(r[0], r[1]): (r[2], r[3]) for r in db.execute("SELECT doc_type, doc_id, version, action FROM sync_queue")}
    # a payment from trust also queues its trust side (core.qbo.trust_push), at the payment's version
    from_trust = {("trust_payment", p) for t, p in changed if t == "payment"
                  and db.execute("SELECT from_trust FROM payments WHERE id = ?", [p]).fetchone()[0]}
    assert set(queue) == changed | from_trust
    for _, pid in from_trust:
        assert queue[("trust_payment", pid)][0] == queue[("payment", pid)][0]
    for doc_type, doc_id in changed:
        if doc_type == "trust":
            assert queue[(doc_type, doc_id)] == (1, "upsert")  # posted, never reversed here
            continue
        doc = {"invoice": L.get_invoice, "payment": L.get_payment, "credit_note": L.get_credit_note}[doc_type](
            firm, doc_id)
        assert queue[(doc_type, doc_id)] == (doc.version, "delete" if doc.status == "deleted" else "upsert")


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_random_sequences_keep_every_invariant(ops, template_db, tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LEDGERLINK_USER", "alice")
    path = tmp_path_factory.mktemp("prop") / "firm.db"
    shutil.copy(template_db, path)
    firm = open_firm(Settings(_env_file=None, db=path))
    ids: dict[str, list] = {"invoice": [], "payment": [], "credit_note": [], "trust": []}
    try:
        for kind, k, n in ops:
            journal = firm.db.execute("SELECT * FROM journal_lines ORDER BY id").fetchall()
            before = _digest(path)
            try:
                _apply(firm, kind, k, n, ids)
            except LedgerError:
                assert _digest(path) == before, f"refused {kind} changed the database"
            db_rows = firm.db.execute("SELECT * FROM journal_lines ORDER BY id").fetchall()
            assert db_rows[: len(journal)] == journal, "a posted journal row changed"
        changed = {(t, i) for t, found in ids.items() for i in found}
        _check_invariants(firm, changed)
    finally:
        firm.close()


LINE = st.tuples(st.integers(1, 40_000), st.integers(0, 10_000_000), st.integers(0, 4))


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(LINE, min_size=1, max_size=6))
def test_tax_is_rounded_half_up_once_per_line_and_totals_equal_postings(lines, template_db, tmp_path_factory,
                                                                         monkeypatch):
    from decimal import ROUND_HALF_UP, Decimal

    monkeypatch.setenv("LEDGERLINK_USER", "alice")
    path = tmp_path_factory.mktemp("tax") / "firm.db"
    shutil.copy(template_db, path)
    firm = open_firm(Settings(_env_file=None, db=path))
    try:
        rates = L.list_tax_rates(firm)
        fee = L.get_account_by_code(firm, "4000").id
        client = L.list_clients(firm)[0].id
        inv = L.create_invoice(firm, client_id=client, date="2026-04-01", lines=[
            dict(description="x", account_id=fee, quantity=str(Decimal(q) / 1000), unit_price=_money(p),
                 tax_rate_id=rates[r % len(rates)].id) for q, p, r in lines])
        cent = Decimal("0.01")
        for (q, p, r), got in zip(lines, inv.lines):
            amount = (Decimal(q) / 1000 * Decimal(p) / 100).quantize(cent, ROUND_HALF_UP)
            tax = (amount * Decimal(rates[r % len(rates)].rate_percent) / 100).quantize(cent, ROUND_HALF_UP)
            assert (got.amount_minor, got.tax_minor) == (int(amount * 100), int(tax * 100))
        posted = firm.db.execute(
            "SELECT sum(amount_minor) FROM journal_lines l JOIN journal_entries e ON e.id = l.entry_id "
            "WHERE e.doc_id = ? AND e.doc_type = 'invoice' AND l.amount_minor > 0", [inv.id]).fetchone()[0] or 0
        assert inv.total_minor == inv.subtotal_minor + inv.tax_minor == posted == inv.open_balance_minor
    finally:
        firm.close()
