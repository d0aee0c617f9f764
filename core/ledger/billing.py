"""Billing writes: invoices, payments and credit notes, with edits and deletions (trust money: core.ledger.trust).

Each write validates everything first, then one `db.atomic()` transaction writes the document,
its balanced journal entry (a reversal plus a new posting for an edit, a reversal for a deletion),
its audit row and its sync-queue (outbox) row. Posted journal rows are never changed.

Posting rules (accrual):
  invoice      Dr receivable (total)            Cr income per line, Cr sales tax per rate account
  payment      Dr operating bank                Cr receivable per allocated invoice
  from trust   + Dr trust liability (client)    Cr trust bank (client)
  credit       Dr income per line, Dr tax       Cr receivable (invoice)
  write-off    Dr bad debts (net per rate),     Cr receivable (invoice, gross)
               Dr tax per component account     (core.ledger.billing_writeoff)

Amounts: line amount = quantity x unit price, rounded once per line ROUND_HALF_UP to the currency's
minor unit; tax by the method of the firm's QBO edition (core.ledger.tax), credited per component
account; document totals are sums of the lines, so they equal the sum of postings to the cent.

The writes live by document in core.ledger.invoices, core.ledger.payments and core.ledger.credits (what they
share in core.ledger.billing_common); this module re-exports them so `billing.create_invoice` keeps working.
"""

from __future__ import annotations

from core.ledger.billing_common import _KEEP, _Ctx, _fail, _field  # noqa: F401
from core.ledger.credits import delete_credit_note, edit_credit_note, issue_credit_note
from core.ledger.invoices import (
    _draft_invoice,  # noqa: F401  (core.services.ledger.check_invoice prices a draft as it is typed)
    create_invoice,
    delete_invoice,
    edit_invoice,
    post_invoices,
    posted_tax_by_account,
)
from core.ledger.payments import delete_payment, edit_payment, post_payments, record_payment

__all__ = ["create_invoice", "delete_credit_note", "delete_invoice", "delete_payment", "edit_credit_note",
           "edit_invoice", "edit_payment", "issue_credit_note", "post_invoices", "post_payments",
           "posted_tax_by_account", "record_payment"]
