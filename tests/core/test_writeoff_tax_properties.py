"""Property: for random invoices (mixed and combined rates, decimal quantities, every country template), a random
credit note, a random part payment and a random write-off amount, the write-off the ledger books is exactly the
amount asked, and QBO's price of the CreditMemo it sends (the sandbox's `compute_tax` over the same lines and tax
codes) is the ledger's tax to the cent. A full write-off of an untouched invoice reverses its net and tax per rate."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, assume, given, settings as hsettings, strategies as st

from core.ledger.demo import ensure_ready
from core.sandbox.tax import compute_tax as sandbox_compute_tax
from core.services import ledger as L
from core.settings import Settings

COMBINED = {"US": [("State + County (8.25%)", "8.25", [("State", "7.25"), ("County", "1")])]}

LINE = st.tuples(st.integers(1, 50_000), st.integers(0, 500_000), st.integers(0, 50))


def _firm(tmp_path, cc: str):
    firm = L.create_firm(Settings(_env_file=None, db=tmp_path / f"{cc}.db"), cc, name=f"{cc} Property LLP")
    ensure_ready(firm)
    gl = L.list_accounts(firm, subtypes=["sales_tax"], active_only=True)[0].id
    for name, percent, parts in COMBINED.get(cc, []):
        L.add_tax_rate(firm, name, percent, components=[(n, p, gl) for n, p in parts])
    return firm


def _credit_memo_lines(cc: str, note, percents: dict) -> list[tuple[Decimal, list[Decimal]]]:
    """The CreditMemo's lines as QBO prices them: (net, the percents of the line's tax code). US: one tax group
    (the write-off's taxed rate) over the TAX lines, NON lines untaxed."""
    out = []
    for ln in note.lines:
        rates = percents.get(ln.tax_rate_id, []) if ln.tax_rate_id is not None else []
        out.append((Decimal(ln.amount_minor) / 100, rates))
    if cc == "US":
        groups = {tuple(r) for _n, r in out if r}
        assert len(groups) <= 1, "a US write-off has one tax group, as its invoice"
    return out


@pytest.mark.parametrize("cc", ["US", "CA", "UK", "AU", "NZ"])
def test_a_write_off_is_exact_and_priced_by_qbo_as_the_ledger_books_it(tmp_path, monkeypatch, cc):
    monkeypatch.setenv("LEDGERLINK_USER", "alice")
    firm = _firm(tmp_path, cc)
    try:
        rates = L.list_tax_rates(firm, active_only=True)
        percents = {r.id: [Decimal(c.rate_percent) for c in r.components] for r in rates}
        fee = L.list_accounts(firm, subtypes=["fee_income"], active_only=True)[0].id
        bank = L.list_bank_accounts(firm, "operating")[0].id
        client = L.add_client(firm, "Property Test Client").id
        taxed = [r for r in rates if r.components]
        zero = [r for r in rates if not r.components]
        seen = {"split": 0, "mirror": 0, "combined": 0}

        @hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(lines=st.lists(LINE, min_size=1, max_size=8), group=st.integers(0, 50),
               credit=st.one_of(st.none(), st.tuples(st.integers(0, 50), st.integers(1, 100))),
               paid=st.one_of(st.just(0), st.integers(1, 99)), part=st.one_of(st.just(10_000), st.integers(1, 10_000)))
        def check(lines, group, credit, paid, part):
            pool = [taxed[group % len(taxed)], *zero] if cc == "US" else rates
            chosen = [pool[k % len(pool)] for _q, _p, k in lines]
            spec = [dict(description=f"line {n}", account_id=fee, quantity=str(Decimal(q) / 1000),
                         unit_price=str(Decimal(p) / 100), tax_rate_id=r.id)
                    for n, ((q, p, _k), r) in enumerate(zip(lines, chosen))]
            inv = L.create_invoice(firm, client_id=client, date="2026-04-01", lines=spec)
            assume(inv.total_minor > 0)
            if credit is not None:
                line = inv.lines[credit[0] % len(inv.lines)]
                amount = line.amount_minor * credit[1] // 100
                if amount > 0:
                    L.issue_credit_note(firm, invoice_id=inv.id, date="2026-04-10", amount=str(Decimal(amount) / 100),
                                        lines=[dict(description="Discount", account_id=fee, tax_rate_id=line.tax_rate_id,
                                                    amount=str(Decimal(amount) / 100))])
            open_ = L.get_invoice(firm, inv.id).open_balance_minor
            pay = open_ * paid // 100
            if 0 < pay < open_:
                L.record_payment(firm, client_id=client, date="2026-04-20", amount=str(Decimal(pay) / 100),
                                 bank_account_id=bank, allocations=[(inv.id, str(Decimal(pay) / 100))])
            open_ = L.get_invoice(firm, inv.id).open_balance_minor
            amount = max(1, open_ * part // 10_000)
            assume(open_ > 0)
            wo = L.issue_credit_note(firm, invoice_id=inv.id, kind="writeoff", date="2026-06-30",
                                     amount=str(Decimal(amount) / 100))
            assert wo.total_minor == amount == wo.amount_minor + wo.tax_minor
            assert L.get_invoice(firm, inv.id).open_balance_minor == open_ - amount
            memo = _credit_memo_lines(cc, wo, percents)
            qbo = sandbox_compute_tax("US" if cc == "US" else "non-US", memo)
            assert Decimal(wo.tax_minor) / 100 == qbo.total, (wo.lines, qbo)
            assert sum(n for n, _r in memo) + qbo.total == Decimal(amount) / 100
            on_invoice = {ln.tax_rate_id for ln in inv.lines}
            assert {ln.tax_rate_id for ln in wo.lines} - {None} <= on_invoice
            seen["split"] += len({ln.tax_rate_id for ln in wo.lines}) > 1
            seen["combined"] += any(len(percents.get(ln.tax_rate_id, [])) > 1 for ln in wo.lines if ln.tax_minor)
            if credit is None and pay == 0 and amount == inv.total_minor:
                seen["mirror"] += 1
                per_invoice: dict = {}
                for ln in inv.lines:
                    n, t = per_invoice.get(ln.tax_rate_id, (0, 0))
                    per_invoice[ln.tax_rate_id] = (n + ln.amount_minor, t + ln.tax_minor)
                per_writeoff: dict = {}
                for ln in wo.lines:
                    n, t = per_writeoff.get(ln.tax_rate_id, (0, 0))
                    per_writeoff[ln.tax_rate_id] = (n + ln.amount_minor, t + ln.tax_minor)
                assert per_writeoff == {r: v for r, v in per_invoice.items() if v != (0, 0)}

        check()
        assert seen["split"] > 0 and seen["mirror"] > 0
        assert cc not in ("US", "CA") or seen["combined"] > 0
    finally:
        firm.close()
