"""`ledgerlink lock ...` (the ledger lock date) and `ledgerlink void ...` (void an invoice or a payment)."""

from __future__ import annotations

import argparse
import json

from core.cli import existing_firm as _firm
from core.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("lock", help="the ledger lock date: nothing on or before it is posted, edited or voided")
    cmds = p.add_subparsers(dest="lock_command", metavar="ACTION", required=True)
    s = cmds.add_parser("set", help="lock the ledger up to and including DATE (admin only)")
    s.add_argument("date", metavar="DATE", help="YYYY-MM-DD")
    s.set_defaults(func=cmd_set)
    c = cmds.add_parser("clear", help="remove the lock date (admin only)")
    c.set_defaults(func=cmd_clear)
    w = cmds.add_parser("show", help="the current lock date")
    w.add_argument("--json", action="store_true")
    w.set_defaults(func=cmd_show)
    v = sub.add_parser("void", help="void an invoice or a payment: it stays, with its number and zero amounts")
    v.add_argument("doc_type", choices=("invoice", "payment"))
    v.add_argument("ref", metavar="NUMBER_OR_ID", help="an invoice number (or id), or a payment id")
    v.add_argument("--json", action="store_true")
    v.set_defaults(func=cmd_void)


def cmd_set(args, settings: Settings) -> int:
    from core.services import locks

    with _firm(settings) as firm:
        date = locks.set_lock_date(firm, args.date)
    print(f"The ledger is locked up to and including {date}: corrections go in the open period after it.")
    return 0


def cmd_clear(args, settings: Settings) -> int:
    from core.services import locks

    with _firm(settings) as firm:
        locks.set_lock_date(firm, None)
    print("The ledger has no lock date now.")
    return 0


def cmd_show(args, settings: Settings) -> int:
    from core.services import locks

    with _firm(settings, readonly=True) as firm:
        date = locks.lock_date(firm)
    if args.json:
        print(json.dumps({"lock_date": date}, indent=2))
    else:
        print(f"The ledger is locked up to and including {date}." if date else "The ledger has no lock date.")
    return 0


def _invoice_id(firm, ref: str) -> int:
    from core.errors import NotFound

    row = firm.db.execute("SELECT id FROM invoices WHERE number = ?", [ref]).fetchone()
    if row:
        return row[0]
    if ref.isdigit():
        return int(ref)
    raise NotFound(f"There is no invoice numbered {ref}")


def cmd_void(args, settings: Settings) -> int:
    from core.errors import ValidationError
    from core.services import locks

    with _firm(settings) as firm:
        if args.doc_type == "invoice":
            doc = locks.void_invoice(firm, _invoice_id(firm, args.ref))
            label = f"Invoice {doc.number}"
        else:
            if not args.ref.isdigit():
                raise ValidationError(f"payment: '{args.ref}' is not a payment id (a whole number)")
            doc = locks.void_payment(firm, int(args.ref))
            label = f"Payment {doc.id}"
    if args.json:
        print(json.dumps({"ok": True, "doc_type": args.doc_type, "doc_id": doc.id, "status": doc.status,
                          "version": doc.version}, indent=2))
    else:
        print(f"{label} is voided; it goes to QuickBooks as a void with the next sync.")
    return 0
