"""`ledgerlink setup ...`: the ledger set-up steps of the checklist that an admin on SSH would otherwise need the
TUI for: bank accounts, trust (or no client money), tax rates and the feature preview."""

from __future__ import annotations

import argparse

from core.cli import existing_firm as _firm
from core.settings import Settings

PREVIEW = "qbo_integration_upgrade"


def register(sub: argparse._SubParsersAction) -> None:
    """Add this area's sub-commands to the parser."""
    p = sub.add_parser("setup", help="checklist steps: bank accounts, trust, tax rates, feature preview")
    steps = p.add_subparsers(dest="setup_command", metavar="STEP", required=True)
    b = steps.add_parser("bank", help="add an operating or trust bank account")
    b.add_argument("kind", choices=("operating", "trust"))
    b.add_argument("name", help="the bank account's name, e.g. 'Operating Checking'")
    b.add_argument("--account", required=True, metavar="CODE", help="its ledger account (type Bank), e.g. 1000")
    b.add_argument("--bank", required=True, metavar="BANK", help="the bank's name (added as a bank contact if new)")
    b.set_defaults(func=cmd_bank)
    n = steps.add_parser("no-client-money", help="state that the firm holds no client money (no trust account)")
    n.add_argument("--undo", action="store_true", help="the firm does hold client money after all")
    n.set_defaults(func=cmd_no_client_money)
    t = steps.add_parser("tax-rate", help="add a sales tax rate")
    t.add_argument("name", help="e.g. 'State Sales Tax (6.25%%)'")
    t.add_argument("percent", help="e.g. 6.25, or 0")
    t.add_argument("--exempt", action="store_true", help="an exempt rate (0%%)")
    t.add_argument("--account", metavar="CODE", help="the sales-tax payable account (default: the first one)")
    t.add_argument("--component", action="append", metavar="NAME:PERCENT:CODE", default=[],
                   help="one tax of a combined rate and its liability account, e.g. 'PST BC:7:2210' (repeat; "
                        "the percents must add up to PERCENT)")
    t.set_defaults(func=cmd_tax_rate)
    v = steps.add_parser("preview", help='switch the "QBO integration upgrade" feature preview on or off')
    v.add_argument("state", choices=("on", "off"))
    v.set_defaults(func=cmd_preview)


def cmd_bank(args, settings: Settings) -> int:
    from core.services import ledger

    with _firm(settings) as firm:
        bank = ledger.add_bank_account_at(firm, kind=args.kind, name=args.name, account_code=args.account,
                                          bank_name=args.bank)
    print(f"Added the {bank.kind} bank account {bank.name} (ledger account {args.account}, bank {args.bank}).")
    return 0


def cmd_no_client_money(args, settings: Settings) -> int:
    from core.services import ledger

    with _firm(settings) as firm:
        ledger.set_no_client_money(firm, not args.undo)
    print("The firm holds client money: it needs a trust bank account (`ledgerlink setup bank trust ...`)."
          if args.undo else "Recorded: the firm holds no client money, so it needs no trust bank account.")
    return 0


def cmd_tax_rate(args, settings: Settings) -> int:
    from core.services import ledger

    with _firm(settings) as firm:
        account_id = ledger.get_account_by_code(firm, args.account).id if args.account else None
        components = [_component(firm, n, text) for n, text in enumerate(args.component, 1)]
        rate = ledger.add_tax_rate(firm, args.name, args.percent, exempt=args.exempt, tax_account_id=account_id,
                                   components=components)
    parts = " + ".join(f"{c.name} {c.rate_percent}%" for c in rate.components) if len(rate.components) > 1 else ""
    print(f"Added the tax rate {rate.name} ({rate.rate_percent}%{': ' + parts if parts else ''}).")
    return 0


def _component(firm, n: int, text: str) -> tuple:
    """--component NAME:PERCENT:CODE (CODE may be left out: the ledger then says the account is missing)."""
    from core.errors import ValidationError
    from core.services import ledger

    parts = text.rsplit(":", 2)
    if len(parts) == 2:
        parts.append("")
    if len(parts) != 3:
        raise ValidationError(f"--component {text!r}: write it as NAME:PERCENT:ACCOUNT_CODE, e.g. 'PST BC:7:2210'")
    name, percent, code = (p.strip() for p in parts)
    if not code:
        return (name, percent, None)
    found = [a for a in ledger.list_accounts(firm) if a.code == code]
    if not found:
        raise ValidationError(f"component {n} ({name}): there is no account with code {code}")
    return (name, percent, found[0].id)


def cmd_preview(args, settings: Settings) -> int:
    from core.services import ledger

    with _firm(settings) as firm:
        ledger.set_feature_preview(firm, PREVIEW, args.state == "on")
    print(f'The "QBO integration upgrade" preview is {args.state}.')
    return 0
