"""Tax adjustments: when a bookkeeper accepts QuickBooks' tax figure for an invoice, the ledger records the
difference as a dated journal entry (never an edit of the posted one), so the invoice's total equals QBO's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.errors import ValidationError
from core.ledger import queries
from core.ledger.base import (
    audit,
    currency,
    live_document,
    now,
    one_account,
    open_balance,
    parse_date,
    post_entry,
    require_role,
    writes,
)
from core.ledger.models import Invoice
from core.money import format_minor

if TYPE_CHECKING:
    from core.context import Firm


@writes
def record_tax_adjustment(firm: "Firm", invoice_id: int, tax_rate_id: int, amount_minor: int, reason: str, date,
                          *, component: int | str | None = None) -> Invoice:
    """Record QBO's tax figure for one invoice: `amount_minor` (signed integer minor units; > 0 raises the
    invoice's tax, < 0 lowers it) on the tax `component` (id or name; may be left out when the rate has one)
    of the rate `tax_rate_id`, which must be charged on the invoice's current lines.

    Posts, dated `date`: Dr receivable of the invoice / Cr the component's liability account (the reverse for a
    negative amount). The invoice's tax, total and open balance follow; it is not queued again (QBO already has
    that figure). An edit or deletion of the invoice reverses its adjustments with the rest of its posting.
    Refused, with nothing written: a deleted invoice, a rate not on it or without tax, an unknown or ambiguous
    component, zero or non-integer amounts, no reason, a bad date, or a result below zero (tax of the component,
    or the invoice's open balance). Returns the invoice as it now stands.
    """
    require_role(firm, "bookkeeper", "record tax adjustments")
    inv = live_document(firm, "invoices", invoice_id, "invoice", "number")
    cur = currency(firm)

    def fmt(minor: int) -> str:
        return f"{format_minor(minor, cur)} {cur}"

    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int):
        raise ValidationError(f"amount_minor: {amount_minor!r} is not a whole number of minor units")
    if amount_minor == 0:
        raise ValidationError("amount_minor: a tax adjustment of zero changes nothing")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("reason: say why the tax is adjusted (e.g. QuickBooks computed 24.76)")
    day = parse_date(date)
    rate = queries.get_tax_rate(firm, tax_rate_id)
    on_invoice = firm.db.execute(
        "SELECT 1 FROM invoice_lines WHERE invoice_id = ? AND version = ? AND tax_rate_id = ? LIMIT 1",
        [invoice_id, inv["version"], tax_rate_id]).fetchone()
    if not on_invoice:
        raise ValidationError(f"Invoice {inv['number']} has no line at {rate.name}: adjust the tax of a rate it charges")
    if not rate.components:
        raise ValidationError(f"{rate.name} is a 0% rate and posts no tax, so it has no tax to adjust on "
                              f"invoice {inv['number']}")
    if component is None:
        if len(rate.components) > 1:
            names = ", ".join(c.name for c in rate.components)
            raise ValidationError(f"{rate.name} has {len(rate.components)} components ({names}): say which one")
        comp = rate.components[0]
    else:
        found = [c for c in rate.components if component in (c.id, c.name)]
        if not found:
            names = ", ".join(c.name for c in rate.components)
            raise ValidationError(f"{rate.name} has no component {component!r}: use one of {names}")
        comp = found[0]
    posted = -firm.db.execute(
        "SELECT coalesce(sum(l.amount_minor), 0) FROM journal_lines l JOIN journal_entries e ON e.id = l.entry_id "
        "WHERE e.doc_type = 'invoice' AND e.doc_id = ? AND e.doc_version = ? AND l.account_id = ?",
        [invoice_id, inv["version"], comp.tax_account_id]).fetchone()[0]
    if posted + amount_minor < 0:
        raise ValidationError(f"Invoice {inv['number']} carries {fmt(posted)} of tax on {comp.name}'s account; "
                              f"an adjustment of {fmt(amount_minor)} would take it below zero")
    balance = open_balance(firm, invoice_id)
    if balance + amount_minor < 0:
        raise ValidationError(f"Invoice {inv['number']} has {fmt(balance)} open; lowering its tax by "
                              f"{fmt(-amount_minor)} would leave it below zero: record a credit note instead")
    ar = one_account(firm, "receivable", "a tax adjustment")
    c, m = inv["client_id"], inv["matter_id"]
    with firm.db.atomic():
        entry = post_entry(firm, date=day, doc_type="invoice", doc_id=invoice_id, doc_version=inv["version"],
                           kind="post", memo=f"Tax adjustment of invoice {inv['number']} ({comp.name})",
                           lines=[(ar, amount_minor, c, m, invoice_id), (comp.tax_account_id, -amount_minor, c, m, None)])
        firm.db.execute(
            "INSERT INTO tax_adjustments (invoice_id, invoice_version, tax_rate_id, component_id, date, amount_minor, "
            "reason, entry_id, created_at, user) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [invoice_id, inv["version"], tax_rate_id, comp.id, day, amount_minor, reason, entry, now(), firm.user])
        audit(firm, "record_tax_adjustment", "invoice", invoice_id,
              f"{inv['number']} {comp.name} {fmt(amount_minor)}: {reason}")
    return queries.get_invoice(firm, invoice_id)
