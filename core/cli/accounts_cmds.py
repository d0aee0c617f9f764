"""`ledgerlink accounts {list,add,rename,deactivate,reactivate,delete}` and `ledgerlink tax-rates
{list,add,rename,deactivate,reactivate,change}`: the chart of accounts and the tax rates after set-up (admin)."""

from __future__ import annotations

import argparse
import json

from core.cli import existing_firm as _firm
from core.settings import Settings

MAP_WORDS = {"sales": "sales map", "gl": "GL map"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("accounts", help="the chart of accounts: list, add, rename, deactivate, reactivate (admin)")
    acc = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    ls = acc.add_parser("list", help="every account with its type, role, whether it is used and its QBO map state")
    ls.add_argument("--active", action="store_true", help="only active accounts")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_accounts_list)
    ad = acc.add_parser("add", help="add an account")
    ad.add_argument("code", help="e.g. 4150")
    ad.add_argument("name", help="e.g. 'Fee income - mediation'")
    ad.add_argument("--type", required=True, help="QBO account type, e.g. Income, 'Other Income', Expense")
    ad.add_argument("--subtype", default="general",
                    help="its role: fee_income, expense_recovery, sales_tax, bad_debt, ... (default: general)")
    ad.add_argument("--json", action="store_true")
    ad.set_defaults(func=cmd_accounts_add)
    rn = acc.add_parser("rename", help="give an account a new name (its code and history stay)")
    rn.add_argument("code")
    rn.add_argument("name")
    rn.add_argument("--json", action="store_true")
    rn.set_defaults(func=cmd_accounts_rename)
    for name, text in (("deactivate", "no longer offered for new documents and maps; its history stays"),
                       ("reactivate", "offered again"),
                       ("delete", "delete an account nothing uses (a used one is refused: deactivate it)")):
        c = acc.add_parser(name, help=text)
        c.add_argument("code")
        c.add_argument("--json", action="store_true")
        c.set_defaults(func=cmd_accounts_state, change=name)

    p = sub.add_parser("tax-rates", help="sales tax rates: list, add, rename, deactivate, reactivate (admin)")
    tr = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    ls = tr.add_parser("list", help="every rate with its components, whether it is used and its QBO map state")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_rates_list)
    ad = tr.add_parser("add", help="add a rate (one liability account, or components that add up to it)")
    ad.add_argument("name", help="e.g. 'GST/PST BC (12%%)'")
    ad.add_argument("percent", help="e.g. 12, or 0")
    ad.add_argument("--exempt", action="store_true", help="an exempt rate (0%%)")
    ad.add_argument("--account", metavar="CODE", help="the sales-tax payable account (default: the first one)")
    ad.add_argument("--component", action="append", metavar="NAME:PERCENT:CODE", default=[],
                    help="one tax of a combined rate and its liability account, e.g. 'PST BC:7:2210' (repeat)")
    ad.add_argument("--json", action="store_true")
    ad.set_defaults(func=cmd_rates_add)
    rn = tr.add_parser("rename", help="give a rate a new name")
    rn.add_argument("name")
    rn.add_argument("new_name")
    rn.add_argument("--json", action="store_true")
    rn.set_defaults(func=cmd_rates_rename)
    for name, text in (("deactivate", "no longer offered on new lines; documents that used it keep it"),
                       ("reactivate", "offered again")):
        c = tr.add_parser(name, help=text)
        c.add_argument("name")
        c.add_argument("--json", action="store_true")
        c.set_defaults(func=cmd_rates_state, change=name)
    ch = tr.add_parser("change", help="a new percentage for a rate no document has used (a used one is refused)")
    ch.add_argument("name")
    ch.add_argument("percent")
    ch.add_argument("--account", metavar="CODE")
    ch.add_argument("--component", action="append", metavar="NAME:PERCENT:CODE", default=[])
    ch.add_argument("--json", action="store_true")
    ch.set_defaults(func=cmd_rates_change)


def _say(args, data: dict, text: str) -> int:
    print(json.dumps({"ok": True, **data}, indent=2) if args.json else text)
    return 0


def _account_json(account) -> dict:
    return {"id": account.id, "code": account.code, "name": account.name, "type": account.type,
            "subtype": account.subtype, "active": account.active}


def _map_text(row) -> str:
    if row.map_kind is None or row.map_status is None:
        return ""
    return f"{MAP_WORDS[row.map_kind]}: {row.map_status}" + (f" ({row.qbo_name})" if row.qbo_name else "")


def cmd_accounts_list(args, settings: Settings) -> int:
    from core.services import accounts

    with _firm(settings, readonly=True) as firm:
        rows = accounts.account_rows(firm, include_inactive=not args.active)
    if args.json:
        return _say(args, {"accounts": [r.as_json() for r in rows]}, "")
    width = max([len(r.account.name) for r in rows] + [4])
    print(f"{'Code':<6} {'Name':<{width}} {'Type':<24} {'Active':<6} {'Used':<4} QBO")
    for r in rows:
        a = r.account
        print(f"{a.code:<6} {a.name:<{width}} {a.type:<24} {'yes' if a.active else 'no':<6} "
              f"{'yes' if r.uses else '':<4} {_map_text(r)}".rstrip())
    return 0


def cmd_accounts_add(args, settings: Settings) -> int:
    from core.services import accounts

    with _firm(settings) as firm:
        account = accounts.add_account(firm, code=args.code, name=args.name, type=args.type, subtype=args.subtype)
        kind = accounts.map_kind_of(account)
    hint = f" Map it in QuickBooks: `ledgerlink map set {kind} {account.code} QBO_ID`." if kind else ""
    return _say(args, {"account": _account_json(account), "map": kind},
                f"Added the account {account.label} ({account.type}, {account.subtype}).{hint}")


def cmd_accounts_rename(args, settings: Settings) -> int:
    from core.services import accounts

    with _firm(settings) as firm:
        old = accounts.find_account(firm, args.code)
        account = accounts.rename_account(firm, old.id, args.name)
    return _say(args, {"account": _account_json(account)}, f"Renamed {old.label} to {account.label}.")


def cmd_accounts_state(args, settings: Settings) -> int:
    from core.services import accounts

    change = {"deactivate": accounts.deactivate_account, "reactivate": accounts.reactivate_account,
              "delete": accounts.delete_account}[args.change]
    with _firm(settings) as firm:
        account = change(firm, accounts.find_account(firm, args.code).id)
    done = {"deactivate": "deactivated", "reactivate": "reactivated", "delete": "deleted"}[args.change]
    return _say(args, {"account": _account_json(account), "change": done}, f"Account {account.label} {done}.")


def _rate_json(rate) -> dict:
    return {"id": rate.id, "name": rate.name, "rate_percent": rate.rate_percent, "exempt": rate.exempt,
            "active": rate.active, "components": [{"name": c.name, "rate_percent": c.rate_percent,
                                                   "tax_account_id": c.tax_account_id} for c in rate.components]}


def _parts(rate) -> str:
    return " + ".join(f"{c.name} {c.rate_percent}%" for c in rate.components) if len(rate.components) > 1 else ""


def cmd_rates_list(args, settings: Settings) -> int:
    from core.services import accounts

    with _firm(settings, readonly=True) as firm:
        rows = accounts.tax_rate_rows(firm)
    if args.json:
        return _say(args, {"tax_rates": [r.as_json() for r in rows]}, "")
    width = max([len(r.rate.name) for r in rows] + [4])
    print(f"{'Name':<{width}} {'Rate':>8} {'Active':<6} {'Used':<4} QBO")
    for r in rows:
        qbo = f"tax map: {r.map_status}" + (f" ({r.qbo_name})" if r.qbo_name else "") if r.map_status else ""
        print(f"{r.rate.name:<{width}} {r.rate.rate_percent + '%':>8} {'yes' if r.rate.active else 'no':<6} "
              f"{'yes' if r.uses else '':<4} {qbo}".rstrip())
        if _parts(r.rate):
            print(f"  = {_parts(r.rate)}")
    return 0


def _components(firm, args) -> list:
    from core.cli.setup_cmds import _component

    return [_component(firm, n, text) for n, text in enumerate(args.component, 1)]


def cmd_rates_add(args, settings: Settings) -> int:
    from core.services import accounts

    with _firm(settings) as firm:
        account_id = accounts.find_account(firm, args.account).id if args.account else None
        rate = accounts.add_tax_rate(firm, args.name, args.percent, exempt=args.exempt, tax_account_id=account_id,
                                     components=_components(firm, args))
    parts = _parts(rate)
    return _say(args, {"tax_rate": _rate_json(rate)},
                f"Added the tax rate {rate.name} ({rate.rate_percent}%{': ' + parts if parts else ''}). "
                "Map it in QuickBooks: `ledgerlink map set tax ...`.")


def cmd_rates_rename(args, settings: Settings) -> int:
    from core.services import accounts

    with _firm(settings) as firm:
        rate = accounts.rename_tax_rate(firm, accounts.find_tax_rate(firm, args.name).id, args.new_name)
    return _say(args, {"tax_rate": _rate_json(rate)}, f"Renamed the tax rate {args.name} to {rate.name}.")


def cmd_rates_state(args, settings: Settings) -> int:
    from core.services import accounts

    change = {"deactivate": accounts.deactivate_tax_rate, "reactivate": accounts.reactivate_tax_rate}[args.change]
    with _firm(settings) as firm:
        rate = change(firm, accounts.find_tax_rate(firm, args.name).id)
    done = f"{args.change}d"
    return _say(args, {"tax_rate": _rate_json(rate), "change": done}, f"Tax rate {rate.name} {done}.")


def cmd_rates_change(args, settings: Settings) -> int:
    from core.services import accounts

    with _firm(settings) as firm:
        account_id = accounts.find_account(firm, args.account).id if args.account else None
        rate = accounts.change_tax_rate(firm, accounts.find_tax_rate(firm, args.name).id, args.percent,
                                        tax_account_id=account_id, components=_components(firm, args) or None)
    return _say(args, {"tax_rate": _rate_json(rate)}, f"Tax rate {rate.name} is now {rate.rate_percent}%.")
