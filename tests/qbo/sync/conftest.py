"""Fixtures for the sync engine's unit tests: a real ledger firm and the in-memory MemQBO."""

from __future__ import annotations

import pytest

from core.ledger import demo, queries
from core.ledger.firm import create_firm
from core.qbo import payloads as P
from core.services.sync import FirmSources

from .memqbo import MemQBO


class MappedSources(FirmSources):
    """The firm's ledger with every map filled in (sales items, bank accounts, tax codes) and sync on."""

    def __init__(self, firm, *, us: bool = True, enabled: bool = True, from_date: str | None = None,
                 unmapped: tuple[int, ...] = ()):
        super().__init__(firm)
        self.us, self.enabled, self.from_date, self.unmapped = us, enabled, from_date, set(unmapped)

    def switch(self):
        return self.enabled, self.from_date

    def context(self) -> P.PushContext:
        firm = self.firm
        accounts = {a.id: a for a in queries.list_accounts(firm, active_only=False)}
        sales = {a.id: P.Ref(value=f"9{a.id}", name=a.name) for a in accounts.values()
                 if a.subtype in ("fee_income", "expense_recovery") and a.id not in self.unmapped}
        extra = {a.id: P.Ref(value=f"8{a.id}", name="Bad debt") for a in accounts.values() if a.subtype == "bad_debt"}
        banks = {b.id: b for b in queries.list_bank_accounts(firm)}
        gl = {b.gl_account_id: P.Ref(value=f"7{b.gl_account_id}") for b in banks.values()}
        gl.update({a.id: P.Ref(value=f"7{a.id}") for a in accounts.values() if a.subtype == "trust_liability"})
        rates = {r.id: r for r in queries.list_tax_rates(firm)}
        tax = {r.id: P.Ref(value=f"6{r.id}") for r in rates.values()}
        return P.PushContext(
            us=self.us, currency=queries.get_firm_info(firm).currency, sales=sales, gl=gl, tax=tax,
            accounts=accounts, tax_rates=rates, bank_accounts=banks,
            client_names={c.id: c.name for c in queries.list_clients(firm)},
            invoice_numbers=dict(firm.db.execute("SELECT id, number FROM invoices").fetchall()),
            extra_items=extra)


@pytest.fixture
def app_log(settings):
    """The app's rotating log file at settings.log_file, for this test alone (one per process otherwise)."""
    import logging

    from core.logs import setup_logging

    root = logging.getLogger()
    before = [h for h in root.handlers if getattr(h, "_ledgerlink", False)]
    for handler in before:
        root.removeHandler(handler)
    setup_logging(settings.log_file)
    yield settings.log_file
    for handler in [h for h in root.handlers if getattr(h, "_ledgerlink", False)]:
        root.removeHandler(handler)
        handler.close()
    for handler in before:
        root.addHandler(handler)


@pytest.fixture
def firm(settings):
    f = create_firm(settings, "US", name="Test & Co")
    demo.ensure_ready(f)
    yield f
    f.close()


@pytest.fixture
def demo_firm(firm):
    demo.fill(firm, clients=6, invoices=40, payments=20, credits=6, seed=7)
    return firm


@pytest.fixture
def qbo():
    return MemQBO()
