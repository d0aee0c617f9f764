"""Client ledgers per client, matter and trust account; the overdraw rule; every kind of trust move."""

from __future__ import annotations

import pytest

from core.errors import ValidationError
from core.ledger import trust as T
from core.ledger.trust_models import TrustOverdraw
from core.services import ledger as L


@pytest.fixture
def two(ready):
    """A second trust bank account, 'Separate Trust', on GL 1110."""
    bank = L.list_contacts(ready.firm, "bank")[0]
    ready.separate = L.add_bank_account(ready.firm, name="Separate Trust", kind="trust", bank_contact_id=bank.id,
                                        gl_account_id=L.get_account_by_code(ready.firm, "1110").id).id
    return ready


def ledgers(firm):
    return {k: v for k, v in T.all_ledgers(firm).items() if v}


def test_jane_cannot_spend_acmes_money_in_another_account(two, settings, file_digest):
    jane, acme = two.client2, two.client
    T.trust_receipt(two.firm, client_id=jane, amount="1000", date="2026-01-02", bank_account_id=two.trust)
    T.trust_receipt(two.firm, client_id=acme, amount="500", date="2026-01-02", bank_account_id=two.separate)
    before = file_digest(settings.db)
    with pytest.raises(TrustOverdraw) as info:
        T.trust_disbursement(two.firm, client_id=jane, amount="800", date="2026-01-03",
                             bank_account_id=two.separate, payee="Vendor")
    err = info.value
    assert (err.client, err.account, err.balance_minor, err.amount_minor) == ("Jane Roe", "Separate Trust", 0, 80000)
    assert "Jane Roe holds 0.00 USD in trust; 800.00 USD cannot be paid out (account Separate Trust" in str(err)
    assert file_digest(settings.db) == before
    # from the account that holds her money it is fine
    T.trust_disbursement(two.firm, client_id=jane, amount="800", date="2026-01-03", bank_account_id=two.trust,
                         payee="Vendor", reference="CHQ 1001")
    assert ledgers(two.firm) == {(jane, None, two.trust): 20000, (acme, None, two.separate): 50000}
    for bank in (two.trust, two.separate):
        assert T.book_balance(two.firm, bank) == sum(v for (c, m, b), v in ledgers(two.firm).items() if b == bank)


def test_a_matter_ledger_cannot_be_overdrawn_and_its_refusal_names_the_matter(ready):
    other = L.add_matter(ready.firm, ready.client, "Acme v. Crane")
    ref = L.get_matter(ready.firm, ready.matter).reference
    T.trust_receipt(ready.firm, client_id=ready.client, amount="300", date="2026-01-02", matter_id=ready.matter)
    T.trust_receipt(ready.firm, client_id=ready.client, amount="100", date="2026-01-02", matter_id=other.id)
    with pytest.raises(TrustOverdraw, match=f"holds 100.00 USD in trust; 150.00 USD cannot be paid out .*matter "
                                            f"{other.reference}") as info:
        T.trust_disbursement(ready.firm, client_id=ready.client, amount="150", date="2026-01-03",
                             matter_id=other.id, payee="Court")
    assert info.value.matter == other.reference
    # without a matter the client's money in the account is used, the matters in order
    T.trust_disbursement(ready.firm, client_id=ready.client, amount="350", date="2026-01-03", payee="Court")
    assert ledgers(ready.firm) == {(ready.client, other.id, ready.trust): 5000}
    assert ref


def test_refund_transfer_and_reversal(two):
    c = two.client
    r = T.trust_receipt(two.firm, client_id=c, amount="1000", date="2026-01-02", matter_id=two.matter,
                        reference="WIRE 77", memo="Retainer")
    assert (r.kind, r.reference, r.version, r.status, r.currency) == ("receipt", "WIRE 77", 1, "posted", "USD")
    t = T.trust_transfer(two.firm, client_id=c, amount="400", date="2026-01-05", from_account_id=two.trust,
                         to_account_id=two.separate, memo="Interest-bearing")
    assert (t.kind, t.to_bank_account_id) == ("transfer", two.separate)
    f = T.trust_refund(two.firm, client_id=c, amount="100", date="2026-01-06", bank_account_id=two.separate)
    assert f.payee == "Acme Widgets Inc."
    assert ledgers(two.firm) == {(c, two.matter, two.trust): 60000, (c, two.matter, two.separate): 30000}
    # the receipt cannot be reversed while its money is partly gone from that ledger
    with pytest.raises(TrustOverdraw, match="cannot be taken back by the reversal"):
        T.reverse_trust(two.firm, r.id, reason="Cheque bounced")
    back = T.reverse_trust(two.firm, f.id, reason="Refund cheque lost", date="2026-01-07")
    assert (back.status, back.version, back.reversal_date) == ("reversed", 2, "2026-01-07")
    assert ledgers(two.firm)[(c, two.matter, two.separate)] == 40000
    with pytest.raises(ValidationError, match="already reversed"):
        T.reverse_trust(two.firm, f.id, reason="again")
    entries = two.firm.db.execute("SELECT doc_version, kind FROM journal_entries WHERE doc_type = 'trust' AND doc_id = ?",
                                  [f.id]).fetchall()
    assert entries == [(1, "post"), (2, "reversal")]
    # the liability per client still equals what the trust accounts hold for it
    assert L.trust_ledger(two.firm).trust_bank_minor == L.trust_ledger(two.firm).client_total_minor == 100000


@pytest.mark.parametrize("amount,fragment", [("0", "must be more than zero"), ("-5", "must be more than zero"),
                                             ("12,50", "decimal comma"), ("abc", "is not a number"),
                                             ("1.234", "more than 2 decimal places")])
def test_bad_amounts_are_refused(ready, amount, fragment):
    with pytest.raises(ValidationError, match=fragment):
        T.trust_receipt(ready.firm, client_id=ready.client, amount=amount, date="2026-01-02")
    assert T.list_trust_transactions(ready.firm) == []


def test_wrong_accounts_and_references_are_refused(two):
    cases = [
        (dict(client_id=999, amount="5", date="2026-01-02"), "client: there is no client with id 999"),
        (dict(client_id=two.client, amount="5", date="2026-01-02", bank_account_id=two.operating),
         "is an operating account; client money goes through a trust bank account"),
        (dict(client_id=two.client2, amount="5", date="2026-01-02", matter_id=two.matter),
         "belongs to another client"),
        (dict(client_id=two.client, amount="5", date="2026-02-30"), "is not a date"),
    ]
    for kwargs, fragment in cases:
        with pytest.raises(ValidationError, match=fragment):
            T.trust_receipt(two.firm, **kwargs)
    with pytest.raises(ValidationError, match="two different trust accounts"):
        T.trust_transfer(two.firm, client_id=two.client, amount="5", date="2026-01-02", from_account_id=two.trust,
                         to_account_id=two.trust)
    assert T.list_trust_transactions(two.firm) == []


def test_invoice_paid_from_trust_uses_that_accounts_money_and_the_invoices_matter(two):
    c = two.client
    inv = two.invoice()  # 318.75 on the client's matter
    T.trust_receipt(two.firm, client_id=c, amount="1000", date="2026-01-02", bank_account_id=two.separate)
    with pytest.raises(ValidationError, match="trust overdraw: Acme Widgets Inc. holds 0.00 USD in trust; 318.75 USD "
                                              "cannot be paid from trust"):
        L.record_payment(two.firm, client_id=c, date="2026-02-02", amount="318.75", bank_account_id=two.operating,
                         allocations=[(inv.id, "318.75")], from_trust=True, trust_bank_account_id=two.trust)
    T.trust_receipt(two.firm, client_id=c, amount="100", date="2026-01-02", matter_id=two.matter,
                    bank_account_id=two.trust)
    T.trust_receipt(two.firm, client_id=c, amount="300", date="2026-01-02", bank_account_id=two.trust)
    pay = L.record_payment(two.firm, client_id=c, date="2026-02-02", amount="318.75", bank_account_id=two.operating,
                           allocations=[(inv.id, "318.75")], from_trust=True, trust_bank_account_id=two.trust)
    # the invoice's matter first, then general money
    assert ledgers(two.firm) == {(c, None, two.trust): 8125, (c, None, two.separate): 100000}
    L.edit_payment(two.firm, pay.id, amount="50")
    assert ledgers(two.firm) == {(c, two.matter, two.trust): 5000, (c, None, two.trust): 30000,
                                 (c, None, two.separate): 100000}
    L.delete_payment(two.firm, pay.id)
    assert sum(ledgers(two.firm).values()) == 140000
