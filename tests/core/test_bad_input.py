"""Every bad input of the issue: a specific message, and the database file byte-identical afterwards."""

from __future__ import annotations

import pytest

from core.errors import Conflict, ImportError_, LedgerError, ValidationError
from core.ledger.importer import import_csv
from core.services import ledger as L


@pytest.fixture
def refused(ready, settings, file_digest):
    """refused(fn, error_type, *fragments): fn raises, the message says each fragment, nothing changed."""

    def check(fn, error=LedgerError, *fragments):
        before = file_digest(settings.db)
        with pytest.raises(error) as info:
            fn()
        text = " | ".join(getattr(info.value, "problems", None) or [str(info.value)])
        for fragment in fragments:
            assert fragment in text, text
        assert file_digest(settings.db) == before, "the database changed"
        return info.value

    return check


def line(ready, **kw):
    base = dict(description="Advice", account_id=ready.fees, quantity="1", unit_price="100.00", tax_rate_id=ready.zero)
    base.update(kw)
    return base


def test_unknown_account(ready, refused):
    refused(lambda: ready.invoice(line(ready, account_id=9999)), ValidationError,
            "line 1: account: there is no account with id 9999")


def test_inactive_account(ready, refused):
    L.set_account_active(ready.firm, ready.fees2, False)
    refused(lambda: ready.invoice(line(ready, account_id=ready.fees2)), ValidationError,
            "line 1: account 4010 Legal Fees - Corporate and Commercial is inactive")


def test_wrong_account_type_on_a_line(ready, refused):
    refused(lambda: ready.invoice(line(ready), line(ready, account_id=ready.bank_gl)), ValidationError,
            "line 2: account 1000 Operating Checking is a Bank account; lines need an income or expense-recovery account")


def test_more_decimals_than_the_currency_has(ready, refused):
    refused(lambda: ready.invoice(line(ready, unit_price="10.005")), ValidationError,
            "line 1: unit price: 10.005 has more than 2 decimal places, which USD does not allow")


@pytest.mark.parametrize("qty", ["0", "-2"])
def test_zero_or_negative_quantity(ready, refused, qty):
    refused(lambda: ready.invoice(line(ready, quantity=qty)), ValidationError,
            f"line 1: quantity: {qty} must be more than zero")


def test_unknown_tax_rate(ready, refused):
    refused(lambda: ready.invoice(line(ready, tax_rate_id=77)), ValidationError,
            "line 1: tax rate: there is no tax rate with id 77")


def test_overpayment(ready, refused):
    inv = ready.invoice(line(ready))
    refused(lambda: L.record_payment(ready.firm, client_id=ready.client, date="2026-02-02", amount="150",
                                     bank_account_id=ready.operating, allocations=[(inv.id, "150")]),
            ValidationError, "overpayment: invoice INV-00001 has 100.00 USD open; 150.00 USD cannot be allocated to it")
    refused(lambda: L.record_payment(ready.firm, client_id=ready.client, date="2026-02-02", amount="50",
                                     bank_account_id=ready.operating, allocations=[(inv.id, "60")]),
            ValidationError, "the allocations add up to 60.00 USD, more than the payment's 50.00 USD")
    L.trust_receipt(ready.firm, client_id=ready.client, amount="500", date="2026-01-02")
    refused(lambda: L.record_payment(ready.firm, client_id=ready.client, date="2026-02-02", amount="150",
                                     bank_account_id=ready.operating, from_trust=True),
            ValidationError, "overpayment from trust: Acme Widgets Inc.'s invoices take 100.00 USD of the 150.00 USD; "
                             "trust money never becomes credit on account")


def test_credit_larger_than_the_open_balance(ready, refused):
    inv = ready.invoice(line(ready))
    L.record_payment(ready.firm, client_id=ready.client, date="2026-02-02", amount="60", bank_account_id=ready.operating)
    refused(lambda: L.issue_credit_note(ready.firm, invoice_id=inv.id, date="2026-02-03", amount="50"),
            ValidationError, "Credit larger than the open balance: invoice INV-00001 has 40.00 USD open")
    refused(lambda: L.issue_credit_note(ready.firm, invoice_id=inv.id, date="2026-02-03", kind="writeoff",
                                        amount="40.01"),
            ValidationError, "a write-off of 40.01 USD is not allowed")


def test_trust_overdraw(ready, refused):
    L.trust_receipt(ready.firm, client_id=ready.client, amount="100", date="2026-01-02")
    refused(lambda: L.trust_disbursement(ready.firm, client_id=ready.client, amount="100.01", date="2026-01-03"),
            ValidationError, "Trust overdraw: Acme Widgets Inc. holds 100.00 USD in trust; 100.01 USD cannot be paid out")
    inv = ready.invoice(line(ready, unit_price="500"))
    refused(lambda: L.record_payment(ready.firm, client_id=ready.client, date="2026-02-02", amount="200",
                                     bank_account_id=ready.operating, allocations=[(inv.id, "200")], from_trust=True),
            ValidationError, "trust overdraw: Acme Widgets Inc. holds 100.00 USD in trust")


def test_duplicate_invoice_number(ready, refused):
    first = ready.invoice(line(ready))
    refused(lambda: ready.invoice(line(ready), number=first.number), ValidationError,
            "Duplicate invoice number: INV-00001 is already used by invoice 1")


def test_payment_to_a_trust_account_from_operating(ready, refused):
    ready.invoice(line(ready))
    refused(lambda: L.record_payment(ready.firm, client_id=ready.client, date="2026-02-02", amount="100",
                                     bank_account_id=ready.trust),
            ValidationError, "is a trust account: invoice payments are deposited to an operating account")
    refused(lambda: L.trust_receipt(ready.firm, client_id=ready.client, amount="5", date="2026-01-02",
                                    bank_account_id=ready.operating),
            ValidationError, "is an operating account; client money goes through a trust bank account")


def test_editing_a_deleted_document(ready, refused):
    inv = ready.invoice(line(ready))
    L.delete_invoice(ready.firm, inv.id)
    refused(lambda: L.edit_invoice(ready.firm, inv.id, due_date="2026-05-01"), Conflict,
            "Invoice INV-00001 was deleted; a deleted invoice cannot be changed")
    inv2 = ready.invoice(line(ready))
    pay = L.record_payment(ready.firm, client_id=ready.client, date="2026-02-02", amount="10",
                           bank_account_id=ready.operating)
    L.delete_payment(ready.firm, pay.id)
    refused(lambda: L.edit_payment(ready.firm, pay.id, amount="5"), Conflict, "Payment 1 was deleted")
    cr = L.issue_credit_note(ready.firm, invoice_id=inv2.id, date="2026-02-03", amount="5")
    L.delete_credit_note(ready.firm, cr.id)
    refused(lambda: L.edit_credit_note(ready.firm, cr.id, amount="1"), Conflict, "Credit note CR-00001 was deleted")


def test_deleting_a_paid_invoice_is_refused(ready, refused):
    inv = ready.invoice(line(ready))
    L.record_payment(ready.firm, client_id=ready.client, date="2026-02-02", amount="10", bank_account_id=ready.operating)
    refused(lambda: L.delete_invoice(ready.firm, inv.id), Conflict, "has 1 payment and 0 credit notes applied")


def test_editing_below_what_was_paid_is_refused(ready, refused):
    inv = ready.invoice(line(ready))
    L.record_payment(ready.firm, client_id=ready.client, date="2026-02-02", amount="80", bank_account_id=ready.operating)
    refused(lambda: L.edit_invoice(ready.firm, inv.id, lines=[line(ready, unit_price="50")]), ValidationError,
            "Invoice INV-00001 has 80.00 USD paid or credited; its total cannot become 50.00 USD")


def test_malformed_csv_rows_name_row_and_column(ready, refused, tmp_path):
    ready.invoice(line(ready))
    path = tmp_path / "invoices.csv"
    path.write_text(
        "number,client,matter,date,due_date,description,account_code,quantity,unit_price,tax_rate\n"
        "A-1,Acme Widgets Inc.,,2026-03-01,,Advice,4000,2,150.00,No Sales Tax (0%)\n"
        "A-1,Acme Widgets Inc.,,2026-03-01,,Filing,4100,1,12.345,No Sales Tax (0%)\n"
        "A-2,Nobody Ltd,,2026-03-01,,Advice,4000,1,100,No Sales Tax (0%)\n"
        "A-3,Jane Roe,,2026-13-01,,Advice,9999,0,100,Mystery rate\n"
        "INV-00001,Jane Roe,,2026-03-02,,Advice,1000,1,100,No Sales Tax (0%)\n"
        "A-4,Jane Roe,,2026-03-02,,Advice,4010,1,100,No Sales Tax (0%)\n")
    err = refused(lambda: import_csv(ready.firm, "invoices", path), ImportError_)
    assert err.problems == [
        "row 3, column unit_price: unit price: 12.345 has more than 2 decimal places, which USD does not allow",
        "row 4, column client: there is no client named 'Nobody Ltd'",
        "row 5, column date: date: '2026-13-01' is not a date (use YYYY-MM-DD)",
        "row 5, column account_code: there is no account with code '9999'",
        "row 5, column tax_rate: there is no tax rate named 'Mystery rate'",
        "row 5, column quantity: quantity: 0 must be more than zero",
        "row 6, column number: Duplicate invoice number: INV-00001 is already used by invoice 1",
        "row 6, column account_code: account 1000 Operating Checking is a Bank account; "
        "lines need an income or expense-recovery account",
    ]
    assert [i.number for i in L.list_invoices(ready.firm)] == ["INV-00001"]


def test_csv_missing_column_and_bad_payment_rows(ready, refused, tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("client,date,amount\nAcme Widgets Inc.,2026-01-01,5\n")
    refused(lambda: import_csv(ready.firm, "payments", path), ImportError_,
            "row 1, column bank_account: the header has no 'bank_account' column")
    ready.invoice(line(ready))
    bank = L.get_bank_account(ready.firm, ready.operating).name
    path.write_text("client,date,amount,bank_account,invoice_number\n"
                    f"Acme Widgets Inc.,2026-02-05,60,{bank},INV-00001\n"
                    f"Acme Widgets Inc.,2026-02-06,60,{bank},INV-00001\n"
                    f"Acme Widgets Inc.,yesterday,1.001,{bank},\n")
    err = refused(lambda: import_csv(ready.firm, "payments", path), ImportError_)
    assert err.problems == [
        "row 3, column amount: allocation 1: overpayment: invoice INV-00001 has 40.00 USD open; "
        "60.00 USD cannot be allocated to it",
        "row 4, column date: date: 'yesterday' is not a date (use YYYY-MM-DD)",
        "row 4, column amount: amount: 1.001 has more than 2 decimal places, which USD does not allow",
    ]


def test_bulk_batches_are_all_or_nothing_and_track_balances_across_the_batch(ready, refused):
    good = dict(client_id=ready.client, date="2026-02-01", lines=[line(ready)])
    bad = dict(client_id=ready.client, date="2026-02-01", lines=[line(ready, quantity="0")])
    refused(lambda: L.post_invoices(ready.firm, [good, good, bad]), ValidationError,
            "invoice 3: line 1: quantity: 0 must be more than zero")
    a, b = L.post_invoices(ready.firm, [good, good])
    L.trust_receipt(ready.firm, client_id=ready.client, amount="150", date="2026-01-02")
    pay = lambda inv: dict(client_id=ready.client, date="2026-02-03", amount="100",  # noqa: E731
                           bank_account_id=ready.operating, allocations=[(inv, "100")], from_trust=True)
    refused(lambda: L.post_payments(ready.firm, [pay(a), pay(b)]), ValidationError,
            "payment 2: trust overdraw: Acme Widgets Inc. holds 50.00 USD in trust")
    twice = dict(pay(a), from_trust=False)
    refused(lambda: L.post_payments(ready.firm, [twice, twice]), ValidationError,
            "payment 2: allocation 1: overpayment: invoice INV-00001 has 0.00 USD open")
