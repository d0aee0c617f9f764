"""Ledger fixtures: a firm ready to bill (banks, trust, feature preview), with one client and matter."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from core.ledger.demo import ensure_ready
from core.services import ledger as L


@pytest.fixture(autouse=True)
def _user(monkeypatch):
    monkeypatch.setenv("LEDGERLINK_USER", "alice")


class Ready:
    """Ids a test needs, looked up once."""

    def __init__(self, firm):
        self.firm = firm
        code = lambda c: L.get_account_by_code(firm, c).id  # noqa: E731
        self.fees, self.fees2, self.recovery = code("4000"), code("4010"), code("4100")
        self.bank_gl, self.ar, self.tax_gl, self.trust_gl = code("1000"), code("1200"), code("2200"), code("1100")
        self.liability, self.bad_debt = code("2100"), code("5000")
        rates = {r.name: r.id for r in L.list_tax_rates(firm)}
        self.zero = rates["No Sales Tax (0%)"]
        self.state = rates["Sample State Sales Tax (6.25%)"]
        self.operating = L.list_bank_accounts(firm, "operating")[0].id
        self.trust = L.list_bank_accounts(firm, "trust")[0].id
        self.client = L.add_client(firm, "Acme Widgets Inc.").id
        self.matter = L.add_matter(firm, self.client, "Acme v. Bolt").id
        self.client2 = L.add_client(firm, "Jane Roe").id

    def invoice(self, *lines, client=None, date="2026-02-01", **kw):
        lines = lines or (dict(description="Advice", account_id=self.fees, quantity="2", unit_price="150.00",
                               tax_rate_id=self.state),)
        return L.create_invoice(self.firm, client_id=client or self.client,
                                matter_id=self.matter if client in (None, self.client) else None,
                                date=date, lines=list(lines), **kw)


@pytest.fixture
def firm(settings):
    f = L.create_firm(settings, "US", name="Hartley & Quinn LLP")
    ensure_ready(f)
    yield f
    f.close()


@pytest.fixture
def ready(firm) -> Ready:
    return Ready(firm)


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    for p in (Path(path), Path(str(path) + "-wal")):
        h.update(p.read_bytes() if p.exists() else b"<none>")
    return h.hexdigest()


@pytest.fixture
def file_digest():
    """file_digest(path): a hash of the database file and its WAL, byte for byte."""
    return _digest
