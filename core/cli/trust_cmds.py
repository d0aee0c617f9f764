"""`ledgerlink trust ...`: client money by client, matter and trust account; statements; three-way reconciliation.

Every command refuses bad input with a message naming the field (and, for a statement file, the row and column)
and writes nothing then. `trust reconcile` exits 0 only when the reconciliation balances.
"""

from __future__ import annotations

import argparse
import json

from core.cli import existing_firm as _firm
from core.money import format_minor
from core.settings import Settings


def _moves(trust: argparse._SubParsersAction) -> None:
    common = dict(date=("--date", "YYYY-MM-DD", "the day of the move (default: today)"),
                  reference=("--reference", "REF", "cheque number, wire reference"),
                  memo=("--memo", "TEXT", "the reason, as the bookkeeper records it"),
                  matter=("--matter", "REF", "the matter's reference (default: the client's money in the account)"))

    def add(p, *names):
        for n in names:
            flag, metavar, text = common[n]
            p.add_argument(flag, metavar=metavar, help=text, default="" if n == "memo" else None)
        p.add_argument("--json", action="store_true", help="machine-readable output")

    p = trust.add_parser("receive", help="client money received into a trust account")
    p.add_argument("client", metavar="CLIENT", help="the client's name (or id)")
    p.add_argument("amount", metavar="AMOUNT")
    p.add_argument("--account", required=True, metavar="TRUST_ACCOUNT", help="the trust bank account's name")
    add(p, "matter", "date", "reference", "memo")
    p.set_defaults(func=cmd_move, move="receive")

    for name, text in (("disburse", "client money paid out of trust to a third party"),
                       ("refund", "client money returned to the client")):
        p = trust.add_parser(name, help=text)
        p.add_argument("client", metavar="CLIENT")
        p.add_argument("amount", metavar="AMOUNT")
        p.add_argument("--account", required=True, metavar="TRUST_ACCOUNT")
        if name == "disburse":
            p.add_argument("--payee", metavar="NAME", help="who is paid")
        add(p, "matter", "date", "reference", "memo")
        p.set_defaults(func=cmd_move, move=name)

    p = trust.add_parser("transfer", help="the client's money moved between two trust accounts")
    p.add_argument("client", metavar="CLIENT")
    p.add_argument("amount", metavar="AMOUNT")
    p.add_argument("--from", "--account", dest="from_account", required=True, metavar="TRUST_ACCOUNT")
    p.add_argument("--to", dest="to_account", required=True, metavar="TRUST_ACCOUNT")
    add(p, "matter", "date", "reference", "memo")
    p.set_defaults(func=cmd_move, move="transfer")

    p = trust.add_parser("pay", help="pay one of the firm's invoices from the client's trust money")
    p.add_argument("invoice", metavar="INVOICE", help="the invoice number")
    p.add_argument("amount", metavar="AMOUNT")
    p.add_argument("--account", required=True, metavar="TRUST_ACCOUNT")
    p.add_argument("--operating", metavar="ACCOUNT", help="operating account the fees go to (default: the first)")
    add(p, "matter", "date", "reference")
    p.set_defaults(func=cmd_pay)

    p = trust.add_parser("reverse", help="correct a trust transaction with a reversal (it is never edited)")
    p.add_argument("id", type=int, metavar="ID")
    p.add_argument("--reason", required=True)
    p.add_argument("--date", metavar="YYYY-MM-DD", help="the reversal's day (default: the transaction's own)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_reverse)

    p = trust.add_parser("ledger", help="client ledgers by client, matter and trust account")
    p.add_argument("client", metavar="CLIENT", nargs="?")
    p.add_argument("--matter", metavar="REF")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_ledger)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("trust", help="client money: receive, disburse, refund, transfer, pay, ledger, reconcile")
    trust = p.add_subparsers(dest="trust_command", metavar="ACTION", required=True)
    _moves(trust)
    from core.cli import trust_recon_cmds

    trust_recon_cmds.register(trust)


def _m(minor: int, cur: str) -> str:
    return f"{format_minor(minor, cur)} {cur}"


def cmd_move(args, settings: Settings) -> int:
    from core.services import trust as S

    with _firm(settings) as firm:
        if args.move == "receive":
            t = S.receive(firm, args.client, args.amount, args.account, matter=args.matter, date=args.date,
                          reference=args.reference, memo=args.memo)
        elif args.move == "disburse":
            t = S.disburse(firm, args.client, args.amount, args.account, payee=args.payee, matter=args.matter,
                           date=args.date, reference=args.reference, memo=args.memo)
        elif args.move == "refund":
            t = S.refund(firm, args.client, args.amount, args.account, matter=args.matter, date=args.date,
                         reference=args.reference, memo=args.memo)
        else:
            t = S.transfer(firm, args.client, args.amount, args.from_account, args.to_account, matter=args.matter,
                           date=args.date, reference=args.reference, memo=args.memo)
        banks = {b.id: b.name for b in S.trust_accounts(firm)}
        held = {b: sum(S.held_by(firm, t.client_id, b).values()) for b in (t.bank_account_id, t.to_bank_account_id)
                if b is not None}
        client = S.queries.get_client(firm, t.client_id).name
    if args.json:
        print(json.dumps({"ok": True, "transaction": t.as_json(),
                          "balances": [{"bank_account_id": b, "account": banks[b], "client_balance_minor": v}
                                       for b, v in held.items()]}, indent=2))
        return 0
    where = f"{banks[t.bank_account_id]} -> {banks[t.to_bank_account_id]}" if t.to_bank_account_id else \
        banks[t.bank_account_id]
    print(f"Trust {t.kind} {t.id}: {client} {_m(t.amount_minor, t.currency)} on {t.date}, {where}"
          + (f", payee {t.payee}" if t.payee else "") + (f", ref {t.reference}" if t.reference else "") + ".")
    for b, v in held.items():
        print(f"{client} now holds {_m(v, t.currency)} in {banks[b]}.")
    return 0


def cmd_pay(args, settings: Settings) -> int:
    from core.services import trust as S

    with _firm(settings) as firm:
        pay = S.pay(firm, args.invoice, args.amount, args.account, operating=args.operating, matter=args.matter,
                    date=args.date, reference=args.reference)
        held = sum(S.held_by(firm, pay.client_id, pay.trust_bank_account_id).values())
        client = S.queries.get_client(firm, pay.client_id).name
        bank = S.queries.get_bank_account(firm, pay.trust_bank_account_id).name
    if args.json:
        print(json.dumps({"ok": True, "payment": {
            "id": pay.id, "client_id": pay.client_id, "date": pay.date, "amount_minor": pay.amount_minor,
            "currency": pay.currency, "bank_account_id": pay.bank_account_id,
            "trust_bank_account_id": pay.trust_bank_account_id, "reference": pay.reference,
            "allocations": [{"invoice_id": a.invoice_id, "amount_minor": a.amount_minor} for a in pay.allocations]},
            "client_balance_minor": held}, indent=2))
        return 0
    print(f"Paid invoice {args.invoice} {_m(pay.amount_minor, pay.currency)} from {bank} (payment {pay.id}); "
          f"{client} now holds {_m(held, pay.currency)} in {bank}.")
    return 0


def cmd_reverse(args, settings: Settings) -> int:
    from core.services import trust as S

    with _firm(settings) as firm:
        t = S.reverse(firm, args.id, reason=args.reason, date=args.date)
    if args.json:
        print(json.dumps({"ok": True, "transaction": t.as_json()}, indent=2))
    else:
        print(f"Trust {t.kind} {t.id} reversed on {t.reversal_date}: {t.reversal_reason}.")
    return 0


def cmd_ledger(args, settings: Settings) -> int:
    from core.cli.ledger_cmds import _table
    from core.services import trust as S

    with _firm(settings, readonly=True) as firm:
        view = S.ledger(firm, args.client, args.matter)
    if args.json:
        print(json.dumps(view.as_json(), indent=2))
        return 0
    cur = view.currency
    rows = [[x.client_name, x.matter_reference or "(no matter)", x.bank_account_name,
             format_minor(x.balance_minor, cur)] for x in view.ledgers]
    print(f"Client trust ledgers ({cur})")
    print(_table(["Client", "Matter", "Account", "Balance"], rows, {3}) if rows else "No client holds money in trust.")
    print()
    print(_table(["Account", "Book balance", "Client ledgers", ""],
                 [[a.name, format_minor(a.book_minor, cur), format_minor(a.clients_minor, cur),
                   "ok" if a.book_minor == a.clients_minor else "DIFFERENT"] for a in view.accounts], {1, 2}))
    if view.entries:
        print()
        banks = {a.bank_account_id: a.name for a in view.accounts}
        print(_table(["Date", "Entry", "Account", "Amount", "Memo"],
                     [[e.date, f"{e.doc_type} {e.doc_id}", banks.get(e.bank_account_id, ""),
                       format_minor(e.amount_minor, cur), e.memo] for e in view.entries], {3}))
    return 0
