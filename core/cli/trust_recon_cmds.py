"""`ledgerlink trust statement ...` and `trust reconcile` (registered under `trust` by core.cli.trust_cmds)."""

from __future__ import annotations

import argparse
import json

from core.cli import existing_firm as _firm
from core.money import format_minor
from core.settings import Settings


def register(trust: argparse._SubParsersAction) -> None:
    p = trust.add_parser("statement", help="bank statements of a trust account: import, show, match")
    st = p.add_subparsers(dest="statement_command", metavar="ACTION", required=True)
    i = st.add_parser("import", help="import a statement CSV (date,description,amount[,reference]) and match it")
    i.add_argument("--account", required=True, metavar="TRUST_ACCOUNT")
    i.add_argument("file", metavar="FILE")
    i.add_argument("--json", action="store_true")
    i.set_defaults(func=cmd_import)
    s = st.add_parser("show", help="statement lines and ledger entries with their matches")
    s.add_argument("--account", required=True, metavar="TRUST_ACCOUNT")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_show)
    a = st.add_parser("auto", help="match what can be matched automatically (amount, date, reference)")
    a.add_argument("--account", required=True, metavar="TRUST_ACCOUNT")
    a.set_defaults(func=cmd_auto)
    m = st.add_parser("match", help="match a statement line to a ledger entry by hand")
    m.add_argument("--account", required=True, metavar="TRUST_ACCOUNT")
    m.add_argument("line", type=int, metavar="LINE")
    m.add_argument("entry", type=int, metavar="ENTRY")
    m.set_defaults(func=cmd_match)
    u = st.add_parser("unmatch", help="undo a statement line's match")
    u.add_argument("--account", required=True, metavar="TRUST_ACCOUNT")
    u.add_argument("line", type=int, metavar="LINE")
    u.set_defaults(func=cmd_unmatch)
    o = st.add_parser("outstanding", help="keep a ledger entry outstanding (not cleared by the bank yet)")
    o.add_argument("--account", required=True, metavar="TRUST_ACCOUNT")
    o.add_argument("entry", type=int, metavar="ENTRY")
    o.set_defaults(func=cmd_outstanding)

    r = trust.add_parser("reconcile", help="three-way reconciliation of a trust account; exit 0 only if it balances")
    r.add_argument("--account", required=True, metavar="TRUST_ACCOUNT")
    r.add_argument("--as-of", required=True, metavar="YYYY-MM-DD")
    r.add_argument("--json", action="store_true", help="machine-readable output")
    r.add_argument("--export", metavar="DIR", help="also write the report as .txt and .csv into DIR")
    r.add_argument("--no-save", action="store_true", help="do not save a balanced reconciliation (no period lock)")
    r.set_defaults(func=cmd_reconcile)


def cmd_import(args, settings: Settings) -> int:
    from core.services import trust as S

    with _firm(settings) as firm:
        result = S.import_statement(firm, args.account, args.file)
    if args.json:
        print(json.dumps(result.as_json(), indent=2))
    else:
        print(f"Imported {result.lines} statement lines into {args.account} (statement {result.statement_id}): "
              f"{result.matched} matched automatically, {result.unmatched} to match.")
    return 0


def cmd_show(args, settings: Settings) -> int:
    from core.cli.ledger_cmds import _table
    from core.services.trust import currency_of as currency
    from core.services import trust as S

    with _firm(settings, readonly=True) as firm:
        lines, items = S.statement(firm, args.account)
        cur = currency(firm)
    if args.json:
        print(json.dumps({"statement_lines": [x.as_json() for x in lines], "ledger_entries": [i.as_json() for i in items]},
                         indent=2))
        return 0
    print("Statement lines")
    print(_table(["Line", "Date", "Amount", "Description", "Matched"],
                 [[str(x.id), x.date, format_minor(x.amount_minor, cur), x.description[:30],
                   f"entry {x.entry_id} ({x.how})" if x.entry_id else "-"] for x in lines], {2}))
    print("\nLedger entries")
    print(_table(["Entry", "Date", "Amount", "Reference", "State"],
                 [[str(i.entry_id), i.date, format_minor(i.amount_minor, cur), i.reference or "",
                   f"line {i.line_id}" if i.line_id else ("outstanding (marked)" if i.marked_outstanding
                                                          else "outstanding")] for i in items], {2}))
    return 0


def cmd_auto(args, settings: Settings) -> int:
    from core.services import trust as S

    with _firm(settings) as firm:
        n = S.auto_match(firm, args.account)
    print(f"Matched {n} statement lines automatically.")
    return 0


def cmd_match(args, settings: Settings) -> int:
    from core.services import trust as S

    with _firm(settings) as firm:
        S.match(firm, args.account, args.line, args.entry)
    print(f"Statement line {args.line} matched to entry {args.entry}.")
    return 0


def cmd_unmatch(args, settings: Settings) -> int:
    from core.services import trust as S

    with _firm(settings) as firm:
        S.unmatch(firm, args.account, args.line)
    print(f"Statement line {args.line} unmatched.")
    return 0


def cmd_outstanding(args, settings: Settings) -> int:
    from core.services import trust as S

    with _firm(settings) as firm:
        S.mark_outstanding(firm, args.account, args.entry)
    print(f"Entry {args.entry} stays outstanding.")
    return 0


def cmd_reconcile(args, settings: Settings) -> int:
    from core.services.ledger import parse_day
    from core.services import trust as S

    parse_day(args.as_of, "--as-of", example="2026-06-30")
    with _firm(settings) as firm:
        rec = S.reconcile(firm, args.account, args.as_of, save=not args.no_save)
    files = S.export_reconciliation(rec, args.export) if args.export else []
    if args.json:
        body = rec.as_json()
        body["exported"] = [str(f) for f in files]
        print(json.dumps(body, indent=2))
    else:
        print(rec.to_text(), end="")
        for f in files:
            print(f"Written: {f}")
    return 0 if rec.ok else 1
