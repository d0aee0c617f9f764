"""The forms that edit a payment or a credit note from Billing's own tabs."""

from __future__ import annotations

from core.services import ledger
from tui.format import plain_amount
from tui.modals.form import Field, FormModal


def payment_edit_form(firm, pay, label: str, numbers: dict[int, str]) -> FormModal:
    banks = [(b.name, b.id) for b in ledger.list_bank_accounts(firm, "operating")]
    fields = [
        Field("amount", "Amount", value=plain_amount(pay.amount_minor)),
        Field("date", "Date (YYYY-MM-DD)", value=pay.date),
        Field("bank", "Into operating account", "select", banks, pay.bank_account_id),
        Field("reference", "Reference", value=pay.reference or ""),
    ]
    applied = ", ".join(numbers.get(a.invoice_id, "?") for a in pay.allocations) or "no invoice"

    def submit(v: dict):
        amount = v["amount"] if v["amount"] != plain_amount(pay.amount_minor) else None
        return ledger.edit_payment(firm, pay.id, date=v["date"], amount=amount, bank_account_id=v["bank"],
                                   reference=v["reference"].strip() or None)

    return FormModal(f"Edit {label}", fields, submit,
                     note=f"Applied to {applied}. Saving reverses the payment, posts the new one and sends the "
                          "change to QBO.")


def credit_edit_form(firm, note, numbers: dict[int, str]) -> FormModal:
    what = "write-off" if note.kind == "writeoff" else "credit note"
    fields = [
        Field("amount", "Amount" if note.kind == "writeoff" else "Amount before tax",
              value=plain_amount(note.amount_minor)),
        Field("date", "Date (YYYY-MM-DD)", value=note.date),
    ]

    def submit(v: dict):
        amount = v["amount"] if v["amount"] != plain_amount(note.amount_minor) else None
        return ledger.edit_credit_note(firm, note.id, date=v["date"], amount=amount)

    return FormModal(f"Edit {what} {note.number}", fields, submit,
                     note=f"On invoice {numbers.get(note.invoice_id, '?')}. Saving reverses it, posts the new one "
                          "and sends the change to QBO.")
