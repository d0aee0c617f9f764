"""An invoice as the client would see it, for a bookkeeper to check before sending: the firm, the client and
matter, number, dates and terms, the lines with quantity, price, amount and tax rate, tax per rate, the total,
what was paid or credited, and the balance due.

    invoice_preview(firm, number_or_id) -> InvoicePreview     (data; money in minor units)
    render_text(preview, width=78) -> str                     (control characters shown as escapes)
    render_html(preview) -> str                               (a standalone page; every text HTML-escaped)

The firm's address is the QBO company's (CompanyAddr), the address QuickBooks prints on the invoices it sends;
without a connection only the firm's name is shown.
"""

from __future__ import annotations

import html
import json
import textwrap
from dataclasses import dataclass
from datetime import date as _date

from core.errors import NotFound
from core.ledger import queries
from core.text import neutralise


@dataclass(frozen=True)
class PreviewLine:
    description: str
    quantity: str
    unit_price_minor: int
    amount_minor: int
    tax_rate: str  # the rate's name, e.g. "GST (10%)"
    tax_percent: str


@dataclass(frozen=True)
class TaxRow:
    name: str
    percent: str
    net_minor: int
    tax_minor: int


@dataclass(frozen=True)
class Settlement:
    kind: str  # 'payment' | 'credit' | 'writeoff'
    reference: str
    date: str
    amount_minor: int


@dataclass(frozen=True)
class InvoicePreview:
    firm_name: str
    firm_address: tuple[str, ...]
    client_name: str
    client_address: tuple[str, ...]
    client_email: str | None
    matter: str | None  # "REF Name"
    number: str
    date: str
    due_date: str
    terms: str
    currency: str
    lines: tuple[PreviewLine, ...]
    subtotal_minor: int
    taxes: tuple[TaxRow, ...]
    tax_minor: int
    total_minor: int
    settlements: tuple[Settlement, ...]
    balance_due_minor: int
    status: str

    @property
    def paid_minor(self) -> int:
        """Payments, credit notes and write-offs applied to the invoice."""
        return self.total_minor - self.balance_due_minor

    def as_json(self) -> dict:
        from dataclasses import asdict

        return {**asdict(self), "paid_minor": self.paid_minor}


def money(minor: int) -> str:
    sign = "-" if minor < 0 else ""
    units, cents = divmod(abs(minor), 100)
    return f"{sign}{units:,}.{cents:02d}"


def quantity(text: str) -> str:
    """'2.000' -> '2', '1.500' -> '1.5'."""
    return text.rstrip("0").rstrip(".") if "." in text else text


def terms(date: str, due_date: str) -> str:
    days = (_date.fromisoformat(due_date) - _date.fromisoformat(date)).days
    return "Due on receipt" if days <= 0 else f"Net {days} days"


def _company_address(firm) -> tuple[str, ...]:
    row = firm.db.execute("SELECT company_json FROM qbo_company WHERE id = 1").fetchone()
    if not row:
        return ()
    try:
        addr = (json.loads(row[0]) or {}).get("CompanyAddr") or {}
    except (ValueError, AttributeError):
        return ()
    lines = [addr.get(k) for k in ("Line1", "Line2", "Line3")]
    place = " ".join(str(p) for p in (addr.get("City"), addr.get("CountrySubDivisionCode"), addr.get("PostalCode"))
                     if p)
    return tuple(str(x) for x in [*lines, place, addr.get("Country")] if x)


def _find(firm, key) -> int:
    text = str(key).strip()
    row = firm.db.execute("SELECT id FROM invoices WHERE number = ? COLLATE NOCASE", [text]).fetchone()
    if row:
        return row[0]
    if text.isdigit() and firm.db.execute("SELECT 1 FROM invoices WHERE id = ?", [int(text)]).fetchone():
        return int(text)
    raise NotFound(f"No invoice is numbered {text!r}: give its number (as Billing lists it) or its id")


def invoice_preview(firm, number_or_id) -> InvoicePreview:
    inv = queries.get_invoice(firm, _find(firm, number_or_id))
    info = queries.get_firm_info(firm)
    client = queries.get_client(firm, inv.client_id)
    matter = queries.get_matter(firm, inv.matter_id) if inv.matter_id else None
    rates = {r.id: r for r in queries.list_tax_rates(firm)}
    lines = tuple(PreviewLine(ln.description, quantity(str(ln.quantity)), ln.unit_price_minor, ln.amount_minor,
                              rates[ln.tax_rate_id].name if ln.tax_rate_id in rates else "",
                              rates[ln.tax_rate_id].rate_percent if ln.tax_rate_id in rates else "")
                  for ln in inv.lines)
    taxes = tuple(TaxRow(t.name, t.rate_percent, t.net_minor, t.tax_minor)
                  for t in queries.invoice_tax_lines(firm, inv.id)) if inv.status == "posted" else ()
    settlements = []
    for pay in queries.list_payments(firm, client_id=inv.client_id):
        if pay.status != "posted":
            continue
        for a in pay.allocations:
            if a.invoice_id == inv.id and a.amount_minor:
                settlements.append(Settlement("payment", pay.reference or f"payment {pay.id}", pay.date,
                                              a.amount_minor))
    for note in queries.list_credit_notes(firm, invoice_id=inv.id):
        if note.status == "posted":
            settlements.append(Settlement(note.kind, note.number, note.date, note.total_minor))
    settlements.sort(key=lambda s: (s.date, s.reference))
    address = tuple(a.strip() for a in (client.address or "").splitlines() if a.strip())
    return InvoicePreview(
        firm_name=info.name, firm_address=_company_address(firm), client_name=client.name, client_address=address,
        client_email=client.email, matter=f"{matter.reference} {matter.name}" if matter else None,
        number=inv.number, date=inv.date, due_date=inv.due_date, terms=terms(inv.date, inv.due_date),
        currency=inv.currency, lines=lines, subtotal_minor=inv.subtotal_minor, taxes=taxes, tax_minor=inv.tax_minor,
        total_minor=inv.total_minor, settlements=tuple(settlements), balance_due_minor=inv.open_balance_minor,
        status=inv.status)


def tax_name(t: TaxRow) -> str:
    return t.name if "%" in t.name else f"{t.name} {t.percent}%"


def draft_preview(firm, *, client_id: int, date: str, lines: list[dict], matter_id: int | None = None,
                  due_date: str | None = None, invoice_id: int | None = None) -> InvoicePreview:
    """A draft (the invoice form's, before it is saved) as the client would see it once saved, priced by the
    ledger's own rules; an edited invoice keeps its number and what was paid on it. Refused with the ledger's
    problems while the draft could not be saved."""
    from core.errors import ValidationError
    from core.money import parse_amount
    from core.services.ledger import check_invoice

    check = check_invoice(firm, lines=lines, client_id=client_id, date=date, matter_id=matter_id,
                          due_date=due_date)
    if check.problems:
        raise ValidationError("The invoice cannot be previewed until it could be saved: " + check.problems[0],
                              check.problems)
    info = queries.get_firm_info(firm)
    rates = {r.id: r for r in queries.list_tax_rates(firm)}
    shown = []
    for line in lines:
        amount = check_invoice(firm, lines=[line], client_id=client_id, date=date).net_minor
        rate = rates[line["tax_rate_id"]]
        shown.append(PreviewLine(str(line.get("description") or ""), quantity(str(line.get("quantity") or "1")),
                                 parse_amount(str(line["unit_price"]), info.currency, field="unit price"), amount,
                                 rate.name, rate.rate_percent))
    base = invoice_preview(firm, invoice_id) if invoice_id is not None else None
    client = queries.get_client(firm, client_id)
    matter = queries.get_matter(firm, matter_id) if matter_id else None
    settled = base.settlements if base else ()
    paid = sum(s.amount_minor for s in settled)
    return InvoicePreview(
        firm_name=info.name, firm_address=_company_address(firm), client_name=client.name,
        client_address=tuple(a.strip() for a in (client.address or "").splitlines() if a.strip()),
        client_email=client.email, matter=f"{matter.reference} {matter.name}" if matter else None,
        number=base.number if base else "(number given on saving)", date=date, due_date=check.due_date,
        terms=terms(date, check.due_date), currency=info.currency, lines=tuple(shown), subtotal_minor=check.net_minor,
        taxes=tuple(TaxRow(rates[r].name, rates[r].rate_percent, net, tax) for r, net, tax in check.by_rate if tax),
        tax_minor=check.tax_minor, total_minor=check.total_minor, settlements=settled,
        balance_due_minor=check.total_minor - paid, status="draft")


def status_note(p: InvoicePreview) -> str:
    return "Draft: not saved yet." if p.status == "draft" else f"This invoice is {p.status}."


SETTLED = {"payment": "Payment", "credit": "Credit note", "writeoff": "Written off"}


def render_text(p: InvoicePreview, width: int = 78) -> str:
    """The invoice as plain text at most `width` columns wide; control characters in any text the firm or the
    client supplied are shown as escapes (neutralised before the layout, so columns stay put)."""
    width = max(width, 60)
    desc_w = width - 49
    n = neutralise

    def row(left: str, right: str) -> str:
        return f"{cut(left, width - len(right) - 1):<{width - len(right)}}{right}"

    def cut(text: str, size: int) -> str:
        return text if len(text) <= size else text[: size - 1] + "…"

    left = ["Bill to:", *(n(x) for x in (p.client_name, *p.client_address, *([p.client_email] if p.client_email
                                                                             else [])))]
    right = [f"INVOICE {n(p.number)}", f"Date {p.date}", f"Due {p.due_date}", f"Terms: {p.terms}"]
    out = [cut(n(x), width) for x in (p.firm_name, *p.firm_address)] + [""]
    out += [row(left[i] if i < len(left) else "", right[i] if i < len(right) else "")
            for i in range(max(len(left), len(right)))]
    if p.matter:
        out.append(cut(f"Matter: {n(p.matter)}", width))
    if p.status != "posted":
        out.append(status_note(p))
    out += ["", f"{'Description':<{desc_w}} {'Qty':>6} {'Price':>11} {'Amount':>12} {'Tax':<15}", "-" * width]
    for ln in p.lines:
        wrapped = textwrap.wrap(n(ln.description), desc_w) or [""]  # the whole description, over several lines
        out.append(f"{wrapped[0]:<{desc_w}} {cut(n(ln.quantity), 6):>6} "
                   f"{money(ln.unit_price_minor):>11} {money(ln.amount_minor):>12} {cut(n(ln.tax_rate), 15):<15}")
        out += wrapped[1:]
    out.append("-" * width)
    figures = [("Subtotal", p.subtotal_minor)]
    figures += [(f"{n(tax_name(t))} on {money(t.net_minor)}", t.tax_minor) for t in p.taxes]
    figures += [(f"Total {p.currency}", p.total_minor)]
    figures += [(f"{SETTLED.get(s.kind, s.kind)} {n(s.reference)} {s.date}", -s.amount_minor) for s in p.settlements]
    figures += [("Paid and credited", -p.paid_minor), (f"Balance due {p.currency}", p.balance_due_minor)]
    for label, minor in figures:
        out.append(row("", f"{cut(label, width - 16)}  {money(minor):>12}"))
    return "\n".join(line.rstrip() for line in out)


_CSS = ("body{font-family:sans-serif;max-width:50em;margin:2em auto;color:#111}"
        "table{border-collapse:collapse;width:100%}th,td{padding:.3em .5em;text-align:left}"
        "td.n,th.n{text-align:right}thead th{border-bottom:1px solid #444}"
        ".totals td{border:0}.due td{font-weight:bold;border-top:1px solid #444}.head{display:flex;"
        "justify-content:space-between}")


def render_html(p: InvoicePreview) -> str:
    """A standalone HTML page of the invoice; every text is escaped (a name cannot inject markup or script)."""
    e = html.escape

    def lines(items) -> str:
        return "<br>".join(e(i) for i in items)

    bill_to = [p.client_name, *p.client_address, *([p.client_email] if p.client_email else [])]
    body = [f"<div class=head><div><h1>{e(p.firm_name)}</h1><p>{lines(p.firm_address)}</p></div>",
            f"<div><h2>Invoice {e(p.number)}</h2><p>Date {e(p.date)}<br>Due {e(p.due_date)}<br>"
            f"Terms: {e(p.terms)}</p></div></div>",
            f"<p><strong>Bill to</strong><br>{lines(bill_to)}</p>"]
    if p.matter:
        body.append(f"<p>Matter: {e(p.matter)}</p>")
    if p.status != "posted":
        body.append(f"<p><strong>{e(status_note(p))}</strong></p>")
    body.append("<table><thead><tr><th>Description</th><th class=n>Qty</th><th class=n>Price</th>"
                "<th class=n>Amount</th><th>Tax</th></tr></thead><tbody>")
    for ln in p.lines:
        body.append(f"<tr><td>{e(ln.description)}</td><td class=n>{e(ln.quantity)}</td>"
                    f"<td class=n>{money(ln.unit_price_minor)}</td><td class=n>{money(ln.amount_minor)}</td>"
                    f"<td>{e(ln.tax_rate)}</td></tr>")
    body.append("</tbody></table><table class=totals>")
    figures = [("Subtotal", p.subtotal_minor, "")]
    figures += [(f"{tax_name(t)} on {money(t.net_minor)}", t.tax_minor, "") for t in p.taxes]
    figures += [(f"Total {p.currency}", p.total_minor, "due")]
    figures += [(f"{SETTLED.get(s.kind, s.kind)} {s.reference} {s.date}", -s.amount_minor, "")
                for s in p.settlements]
    figures += [("Paid and credited", -p.paid_minor, ""), (f"Balance due {p.currency}", p.balance_due_minor, "due")]
    for label, minor, cls in figures:
        body.append(f"<tr class='{cls}'><td class=n>{e(label)}</td><td class=n>{money(minor)}</td></tr>")
    body.append("</table>")
    return (f"<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8><title>Invoice {e(p.number)}</title>"
            f"<style>{_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")
