"""One home currency: a foreign-currency client, a payment in another currency, an exchange rate of 0 or below
are refused with a specific error and nothing is written."""

from __future__ import annotations

import pytest

from core.errors import ValidationError
from core.services import ledger as L


def _counts(firm):
    return tuple(firm.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                 for t in ("contacts", "payments", "journal_entries", "sync_queue", "audit_log"))


def test_a_foreign_currency_client_is_refused_naming_both_currencies(ready):
    before = _counts(ready.firm)
    with pytest.raises(ValidationError, match="Client Maple Leaf Ltd: currency CAD is not the firm's home currency "
                                              "USD; foreign-currency clients are not supported yet"):
        L.add_client(ready.firm, "Maple Leaf Ltd", currency="cad")
    assert _counts(ready.firm) == before
    assert L.add_client(ready.firm, "Home Co", currency="usd").name == "Home Co"


@pytest.mark.parametrize("extra, message", [
    (dict(currency="EUR"), "currency: Acme Widgets Inc.'s payment is in EUR, but the firm keeps its books in USD "
                           "only and has no EUR account"),
    (dict(exchange_rate="0"), "exchange rate: 0 must be more than zero"),
    (dict(exchange_rate="-1.2"), "exchange rate: -1.2 must be more than zero"),
    (dict(exchange_rate="abc"), "exchange rate: 'abc' is not a number"),
    (dict(currency="USD", exchange_rate="1.1"), "a payment in the home currency USD has the rate 1, not 1.1"),
])
def test_payments_in_another_currency_or_at_a_bad_rate_are_refused(ready, extra, message):
    inv = ready.invoice()
    before = _counts(ready.firm)
    with pytest.raises(ValidationError, match=message):
        L.record_payment(ready.firm, client_id=ready.client, date="2026-02-02", amount="10",
                         bank_account_id=ready.operating, allocations=[(inv.id, "10")], **extra)
    assert _counts(ready.firm) == before


def test_a_payment_in_the_home_currency_at_rate_one_is_taken(ready):
    inv = ready.invoice()
    pay = L.record_payment(ready.firm, client_id=ready.client, date="2026-02-02", amount="10", currency="USD",
                           exchange_rate="1", bank_account_id=ready.operating, allocations=[(inv.id, "10")])
    assert pay.currency == "USD" and pay.amount_minor == 1000


def test_every_currency_problem_is_named_at_once(ready):
    with pytest.raises(ValidationError) as caught:
        L.record_payment(ready.firm, client_id=ready.client, date="2026-02-02", amount="10", currency="EUR",
                         exchange_rate="0", bank_account_id=ready.operating)
    assert [p.split(":")[0] for p in caught.value.problems] == ["currency", "exchange rate"]
