"""Property test: random receipts, disbursements, refunds, transfers, payments from trust and reversals over
three clients, two matters each and two trust accounts. At every step no client ledger (client x matter x
account) is below zero, the sum of the client ledgers of each trust account equals its book balance, and a
move is refused exactly when the ledger it draws on holds less than its amount."""

from __future__ import annotations

import shutil

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from core.errors import ValidationError
from core.ledger import trust as T
from core.ledger.demo import ensure_ready
from core.services import ledger as L
from core.services.context import open_firm
from core.settings import Settings

KINDS = ("receipt", "receipt", "disburse", "disburse_matter", "refund", "transfer", "pay", "reverse")
OPS = st.lists(st.tuples(st.sampled_from(KINDS), st.integers(0, 11), st.integers(1, 90_000)), min_size=3, max_size=25)


@pytest.fixture(scope="module")
def template_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("trust") / "firm.db"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LEDGERLINK_USER", "alice")
        firm = L.create_firm(Settings(_env_file=None, db=path), "US", name="Property Trust LLP")
        ensure_ready(firm)
        bank = L.list_contacts(firm, "bank")[0]
        L.add_bank_account(firm, name="Separate Trust", kind="trust", bank_contact_id=bank.id,
                           gl_account_id=L.get_account_by_code(firm, "1110").id)
        fees = L.get_account_by_code(firm, "4000").id
        zero = next(r.id for r in L.list_tax_rates(firm) if r.rate_ppm == 0)
        for name in ("Ayla Chen", "Bruno Rossi", "Cora Singh"):
            c = L.add_client(firm, name).id
            for title in ("Purchase", "Lease"):
                m = L.add_matter(firm, c, title).id
                L.create_invoice(firm, client_id=c, matter_id=m, date="2026-01-01", lines=[dict(
                    description="Fees", account_id=fees, quantity="1", unit_price="2000.00", tax_rate_id=zero)])
        firm.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        firm.close()
    return path


def _money(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"


def _check(firm) -> None:
    ledgers = T.all_ledgers(firm)
    assert all(v >= 0 for v in ledgers.values()), ledgers
    for bank in T.trust_banks(firm):
        assert T.book_balance(firm, bank) == sum(v for (c, m, b), v in ledgers.items() if b == bank)
    per_client = {}
    for (c, m, b), v in ledgers.items():
        per_client[c] = per_client.get(c, 0) + v
    liability = {b.client_id: b.balance_minor for b in L.trust_ledger(firm).balances}
    assert {c: v for c, v in per_client.items() if v} == {c: v for c, v in liability.items() if v}


def _step(firm, kind: str, k: int, n: int) -> None:
    clients = [c.id for c in L.list_clients(firm)]
    client = clients[k % 3]
    matters = [m.id for m in L.list_matters(firm, client)]
    matter = matters[k % 2] if k % 3 else None
    banks = sorted(T.trust_banks(firm))
    bank, other = banks[k % 2], banks[(k + 1) % 2]
    ledgers = T.ledgers_of(firm, client, bank)
    total = sum(ledgers.values())
    amount = _money(n)
    expect_ok = True
    if kind == "receipt":
        call = lambda: T.trust_receipt(firm, client_id=client, amount=amount, date="2026-02-01",  # noqa: E731
                                       matter_id=matter, bank_account_id=bank)
    elif kind in ("disburse", "disburse_matter", "refund", "transfer"):
        named = kind == "disburse_matter"
        expect_ok = (ledgers.get(matter, 0) if (named or matter) else total) >= n
        if kind == "transfer":
            call = lambda: T.trust_transfer(firm, client_id=client, amount=amount, date="2026-02-02",  # noqa: E731
                                            from_account_id=bank, to_account_id=other, matter_id=matter)
        elif kind == "refund":
            call = lambda: T.trust_refund(firm, client_id=client, amount=amount, date="2026-02-02",  # noqa: E731
                                          matter_id=matter, bank_account_id=bank)
        else:
            call = lambda: T.trust_disbursement(firm, client_id=client, amount=amount, date="2026-02-02",  # noqa: E731
                                                matter_id=matter, bank_account_id=bank, payee="Vendor",
                                                named_matter=named)
    elif kind == "pay":
        inv = next(i for i in L.list_invoices(firm, client_id=client) if i.matter_id == matters[k % 2])
        n = min(n, inv.open_balance_minor)
        if not n:
            return
        amount = _money(n)
        expect_ok = total >= n
        call = lambda: L.record_payment(firm, client_id=client, date="2026-02-03", amount=amount,  # noqa: E731
                                        bank_account_id=L.list_bank_accounts(firm, "operating")[0].id,
                                        allocations=[(inv.id, amount)], from_trust=True, trust_bank_account_id=bank)
    else:
        posted = [t for t in T.list_trust_transactions(firm) if t.status == "posted"]
        if not posted:
            return
        t = posted[n % len(posted)]
        call = lambda: T.reverse_trust(firm, t.id, reason="Correction")  # noqa: E731
        expect_ok = None
    try:
        call()
        ok = True
    except ValidationError:
        ok = False
    if expect_ok is not None:
        assert ok == expect_ok, (kind, client, matter, bank, n, ledgers)


@hsettings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_no_client_ledger_below_zero_and_clients_equal_books_per_account(template_db, tmp_path, monkeypatch, ops):
    monkeypatch.setenv("LEDGERLINK_USER", "alice")
    path = tmp_path / f"f{abs(hash(tuple(ops)))}.db"
    shutil.copy(template_db, path)
    firm = open_firm(Settings(_env_file=None, db=path))
    try:
        for kind, k, n in ops:
            _step(firm, kind, k, n)
            _check(firm)
    finally:
        firm.close()
        path.unlink()
