"""`ledgerlink payment {list,edit,delete}` and `ledgerlink credit {list,edit,delete}`: payments and credit
notes corrected from the command line, as the TUI's Billing tabs do (the ledger reverses and reposts)."""

from __future__ import annotations

import argparse
import json

from core.cli import existing_firm as _firm
from core.money import format_minor
from core.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("payment", help="list, edit or delete a payment (by its id or reference)")
    pay = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    ls = pay.add_parser("list", help="posted payments with their ids, references and invoices")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_payment_list)
    ed = pay.add_parser("edit", help="change a payment's amount, date, bank account or reference")
    ed.add_argument("payment", help="the payment's id or reference")
    ed.add_argument("--amount", help="the new amount (re-applied to the client's invoices, oldest first)")
    ed.add_argument("--date", help="YYYY-MM-DD")
    ed.add_argument("--bank-account", type=int, help="the operating bank account's id")
    ed.add_argument("--reference")
    ed.add_argument("--json", action="store_true")
    ed.set_defaults(func=cmd_payment_edit)
    de = pay.add_parser("delete", help="delete a payment (the ledger reverses it; QBO is told at the next sync)")
    de.add_argument("payment", help="the payment's id or reference")
    de.add_argument("--json", action="store_true")
    de.set_defaults(func=cmd_payment_delete)

    p = sub.add_parser("credit", help="list, edit or delete a credit note or write-off (by its number)")
    cr = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    ls = cr.add_parser("list", help="posted credit notes and write-offs")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_credit_list)
    ed = cr.add_parser("edit", help="change a credit note's amount (before tax), a write-off's (gross) or the date")
    ed.add_argument("number", help="CR-00001, WO-00001 or the id")
    ed.add_argument("--amount")
    ed.add_argument("--date", help="YYYY-MM-DD")
    ed.add_argument("--json", action="store_true")
    ed.set_defaults(func=cmd_credit_edit)
    de = cr.add_parser("delete", help="delete a credit note or write-off (reversed; QBO told at the next sync)")
    de.add_argument("number", help="CR-00001, WO-00001 or the id")
    de.add_argument("--json", action="store_true")
    de.set_defaults(func=cmd_credit_delete)

    p = sub.add_parser("invoice", help="an invoice as the client would see it")
    inv = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    pv = inv.add_parser("preview", help="print the invoice as the client would see it, or write it as HTML")
    pv.add_argument("number", help="INV-00001 or the id")
    pv.add_argument("--html", metavar="FILE", help="write a standalone HTML page to FILE")
    pv.add_argument("--json", action="store_true")
    pv.set_defaults(func=cmd_invoice_preview)


def _numbers(firm) -> dict[int, str]:
    from core.services import ledger

    return {i.id: i.number for i in ledger.list_invoices(firm)}


def _payment_json(pay, numbers: dict[int, str]) -> dict:
    return {"id": pay.id, "client_id": pay.client_id, "date": pay.date, "reference": pay.reference,
            "amount_minor": pay.amount_minor, "currency": pay.currency, "from_trust": pay.from_trust,
            "status": pay.status, "invoices": [{"number": numbers.get(a.invoice_id), "amount_minor": a.amount_minor}
                                               for a in pay.allocations]}


def _payment_label(pay) -> str:
    return f"payment {pay.reference}" if pay.reference else f"payment {pay.id}"


def _credit_json(note, numbers: dict[int, str]) -> dict:
    return {"id": note.id, "number": note.number, "kind": note.kind, "invoice": numbers.get(note.invoice_id),
            "date": note.date, "amount_minor": note.amount_minor, "tax_minor": note.tax_minor,
            "total_minor": note.total_minor, "currency": note.currency, "status": note.status}


def _say(args, data: dict, text: str) -> int:
    print(json.dumps({"ok": True, **data}, indent=2) if args.json else text)
    return 0


def cmd_payment_list(args, settings: Settings) -> int:
    from core.services import ledger

    with _firm(settings, readonly=True) as firm:
        numbers = _numbers(firm)
        rows = [_payment_json(p, numbers) for p in ledger.list_payments(firm, status="posted")]
    if args.json:
        print(json.dumps({"payments": rows}, indent=2))
        return 0
    for r in rows:
        invoices = ", ".join(a["number"] or "?" for a in r["invoices"]) or "on account"
        print(f"{r['id']:>6}  {r['date']}  {(r['reference'] or '-')[:14]:<14}  "
              f"{format_minor(r['amount_minor'], r['currency']):>12}  {invoices}"[:80])
    return 0


def cmd_payment_edit(args, settings: Settings) -> int:
    from core.services import ledger

    with _firm(settings) as firm:
        pay = ledger.find_payment(firm, args.payment)
        kwargs = {"date": args.date, "amount": args.amount, "bank_account_id": args.bank_account}
        if args.reference is not None:
            kwargs["reference"] = args.reference.strip() or None
        new = ledger.edit_payment(firm, pay.id, **kwargs)
        data = _payment_json(new, _numbers(firm))
    return _say(args, {"payment": data}, f"Edited {_payment_label(new)}: {format_minor(new.amount_minor, new.currency)}"
                f" on {new.date}; the change will be sent to QBO.")


def cmd_payment_delete(args, settings: Settings) -> int:
    from core.services import ledger

    with _firm(settings) as firm:
        pay = ledger.find_payment(firm, args.payment)
        gone = ledger.delete_payment(firm, pay.id)
        data = _payment_json(gone, _numbers(firm))
    return _say(args, {"payment": data}, f"Deleted {_payment_label(pay)} "
                f"({format_minor(pay.amount_minor, pay.currency)}); the deletion will be sent to QBO.")


def cmd_credit_list(args, settings: Settings) -> int:
    from core.services import ledger

    with _firm(settings, readonly=True) as firm:
        numbers = _numbers(firm)
        rows = [_credit_json(n, numbers) for n in ledger.list_credit_notes(firm, status="posted")]
    if args.json:
        print(json.dumps({"credit_notes": rows}, indent=2))
        return 0
    for r in rows:
        print(f"{r['number']:<10}  {r['kind']:<8}  {r['date']}  {r['invoice'] or '?':<10}  "
              f"{format_minor(r['total_minor'], r['currency']):>12}")
    return 0


def cmd_credit_edit(args, settings: Settings) -> int:
    from core.services import ledger

    with _firm(settings) as firm:
        note = ledger.find_credit_note(firm, args.number)
        new = ledger.edit_credit_note(firm, note.id, date=args.date, amount=args.amount)
        data = _credit_json(new, _numbers(firm))
    return _say(args, {"credit_note": data}, f"Edited {new.number}: {format_minor(new.total_minor, new.currency)} "
                f"on {new.date}; the change will be sent to QBO.")


def cmd_credit_delete(args, settings: Settings) -> int:
    from core.services import ledger

    with _firm(settings) as firm:
        note = ledger.find_credit_note(firm, args.number)
        gone = ledger.delete_credit_note(firm, note.id)
        data = _credit_json(gone, _numbers(firm))
    return _say(args, {"credit_note": data}, f"Deleted {note.number} ({format_minor(note.total_minor, note.currency)}); "
                "the deletion will be sent to QBO.")


def cmd_invoice_preview(args, settings: Settings) -> int:
    import shutil
    from pathlib import Path

    from core.errors import ValidationError
    from core.services import preview

    with _firm(settings, readonly=True) as firm:
        doc = preview.invoice_preview(firm, args.number)
    if args.html:
        try:
            Path(args.html).write_text(preview.render_html(doc), encoding="utf-8")
        except OSError as exc:
            raise ValidationError(f"--html {args.html}: cannot write the file ({exc.strerror})") from None
    if args.json:
        return _say(args, {"invoice": doc.as_json(), "html": args.html}, "")
    if args.html:
        print(f"Invoice {doc.number} written to {args.html}")
        return 0
    print(preview.render_text(doc, min(shutil.get_terminal_size((80, 24)).columns - 2, 100)))
    return 0
