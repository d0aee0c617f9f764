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
              value=plain_amount(note.total_minor if note.kind == "writeoff" else note.amount_minor)),
        Field("date", "Date (YYYY-MM-DD)", value=note.date),
    ]

    def submit(v: dict):
        shown = note.total_minor if note.kind == "writeoff" else note.amount_minor
        amount = v["amount"] if v["amount"] != plain_amount(shown) else None
        return ledger.edit_credit_note(firm, note.id, date=v["date"], amount=amount)

    return FormModal(f"Edit {what} {note.number}", fields, submit,
                     note=f"On invoice {numbers.get(note.invoice_id, '?')}. Saving reverses it, posts the new one "
                          "and sends the change to QBO.")


def client_form(firm, client) -> FormModal:
    """A new client (client None) or a client's details."""
    fields = [Field("name", "Client name", value=client.name if client else ""),
              Field("email", "E-mail", value=(client.email or "") if client else ""),
              Field("phone", "Phone", value=(client.phone or "") if client else ""),
              Field("address", "Address", value=(client.address or "") if client else "")]
    if client is None:
        fields.append(Field("matter", "First matter (optional)"))

    def submit(v: dict):
        if client is not None:
            return ledger.edit_client(firm, client.id, name=v["name"], email=v["email"], phone=v["phone"],
                                      address=v["address"])
        made = ledger.add_client(firm, v["name"], email=v["email"].strip() or None,
                                 phone=v["phone"].strip() or None, address=v["address"].strip() or None)
        if v["matter"].strip():
            ledger.add_matter(firm, made.id, v["matter"])
        return made

    return FormModal(f"Client {client.name}" if client else "Add a client", fields, submit)


def matter_form(firm, client, matter) -> FormModal:
    """A new matter for `client`, or a matter's new name."""
    fields = [Field("name", "Matter name", value=matter.name if matter else "")]
    if matter is None:
        fields.append(Field("reference", "Reference (empty: numbered for you)"))

    def submit(v: dict):
        if matter is not None:
            return ledger.edit_matter(firm, matter.id, name=v["name"])
        return ledger.add_matter(firm, client.id, v["name"], reference=v["reference"].strip() or None)

    title = f"Matter {matter.reference}" if matter else f"New matter for {client.name}"
    return FormModal(title, fields, submit)
