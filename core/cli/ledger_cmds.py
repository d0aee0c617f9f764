"""`ledgerlink` sub-commands of the ledger area: init, demo, import, report, status, users."""

from __future__ import annotations

import argparse
import json
import textwrap
from pathlib import Path

from core.errors import Conflict, ValidationError
from core.services.ledger import AGING_BUCKETS, COUNTRIES, parse_day
from core.money import format_minor
from core.cli import existing_firm as _firm
from core.settings import Settings
from core.text import counted


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number (0 or more)")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    """Add this area's sub-commands to the parser."""
    p = sub.add_parser("init", help="create a firm from a country's chart-of-accounts template")
    p.add_argument("--country", required=True, type=str.upper, choices=COUNTRIES + ("GB",))
    p.add_argument("--name", default="My Law Firm", help="the firm's name")
    p.add_argument("--fiscal-year-start", type=int, default=1, metavar="MONTH")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("demo", help="fill a firm with realistic, deterministic demo data")
    p.add_argument("--country", type=str.upper, default="US", choices=COUNTRIES + ("GB",),
                   help="template when the database has no firm yet")
    p.add_argument("--clients", type=_count, default=20, metavar="N")
    p.add_argument("--invoices", type=_count, default=200, metavar="N")
    p.add_argument("--payments", type=_count, default=120, metavar="N")
    p.add_argument("--credits", type=_count, default=20, metavar="N")
    p.add_argument("--seed", type=int, default=1)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("import", help="import a CSV file (all or nothing; bad rows are listed)")
    p.add_argument("kind", choices=("accounts", "clients", "invoices", "payments"))
    p.add_argument("file")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("report", help="trial balance, AR aging or client trust ledger")
    p.add_argument("name", choices=("trial-balance", "aging", "trust"))
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--as-of", metavar="YYYY-MM-DD", help="aging date (default: today; the aging report only)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("status", help="setup checklist, connection and sync queue")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("migrate", help="upgrade the firm database's schema in place (other commands do it too)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("users", help="who may do what (roles admin and bookkeeper)")
    users = p.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    g = users.add_parser("grant", help="give an operating-system user a role")
    g.add_argument("user")
    g.add_argument("role", choices=("admin", "bookkeeper"))
    g.set_defaults(func=cmd_users_grant)
    ls = users.add_parser("list", help="list users and roles")
    ls.set_defaults(func=cmd_users_list)


def cmd_init(args, settings: Settings) -> int:
    from core.services.ledger import create_firm, list_accounts, list_tax_rates

    try:
        firm = create_firm(settings, args.country, name=args.name, fiscal_year_start=args.fiscal_year_start)
    except Conflict as exc:
        raise Conflict(f"{exc}: `ledgerlink status` shows it; for another firm give another file with --db") from None
    try:
        print(f"Created {args.name} ({args.country}) in {settings.db}: {len(list_accounts(firm))} accounts, "
              f"{len(list_tax_rates(firm))} tax rates; {firm.user} is admin.")
        print("Next: `ledgerlink status` shows what is left to set up.")
    finally:
        firm.close()
    return 0


def cmd_demo(args, settings: Settings) -> int:
    from core.services.ledger import build_demo
    from core.services.ledger import firm_exists, get_firm_info, list_clients

    if not args.clients and (args.invoices or args.payments or args.credits):
        raise ValidationError("Demo invoices, payments and credit notes need clients: give --clients 1 or more")
    if Path(settings.db).expanduser().exists():
        with _firm(settings) as firm:
            held = len(list_clients(firm)) if firm_exists(firm) else 0
            name = get_firm_info(firm).name if held else ""
        if held:
            raise Conflict(f"{settings.db} holds {name} with {counted(held, 'client')}: demo data would mix with "
                           "its records (and could be pushed to QuickBooks). Give demo a new file with --db.")
    s = build_demo(settings, country=args.country, clients=args.clients, invoices=args.invoices,
                   payments=args.payments, credits=args.credits, seed=args.seed)
    counts = [counted(s.clients, "client"), counted(s.matters, "matter"), counted(s.invoices, "invoice"),
              counted(s.payments, "payment"), counted(s.credit_notes, "credit note"),
              counted(s.trust_moves, "trust move"), counted(s.edits, "edit"), counted(s.deletions, "deletion")]
    print(f"Demo data in {settings.db}: {', '.join(counts)}.")
    for account, path in s.trust_statements:
        print(f"Bank statement of {account} to {s.statement_as_of}: {path}\n  try: ledgerlink trust statement import "
              f"--account \"{account}\" {path}\n       ledgerlink trust reconcile --account \"{account}\" "
              f"--as-of {s.statement_as_of}")
    return 0


def cmd_import(args, settings: Settings) -> int:
    from core.services.ledger import import_csv

    with _firm(settings) as firm:
        count = import_csv(firm, args.kind, args.file)
    print(f"Imported {counted(count, args.kind.removesuffix('s'))} from {args.file}.")
    return 0


def _table(headers: list[str], rows: list[list[str]], right: set[int]) -> str:
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    fmt = lambda cells: "  ".join(c.rjust(w) if i in right else c.ljust(w)  # noqa: E731
                                  for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
    return "\n".join([fmt(headers), fmt(["-" * w for w in widths])] + [fmt(r) for r in rows])


def cmd_report(args, settings: Settings) -> int:
    from core.services import ledger

    if args.as_of is not None:
        if args.name != "aging":
            raise ValidationError(f"--as-of applies to the aging report only: `ledgerlink report {args.name}` shows "
                                  "today's balances")
        parse_day(args.as_of, "--as-of", example="2026-03-31")
    with _firm(settings, readonly=True) as firm:
        if args.name == "trial-balance":
            tb = ledger.trial_balance(firm)
            cur, body = tb.currency, tb.as_json()
            rows = [[r.code, r.name, format_minor(r.debit_minor, cur) if r.debit_minor else "",
                     format_minor(r.credit_minor, cur) if r.credit_minor else ""] for r in tb.rows]
            rows.append(["", "Total", format_minor(tb.total_debit_minor, cur),
                         format_minor(tb.total_credit_minor, cur)])
            text = f"Trial balance ({cur})\n" + _table(["Code", "Account", "Debit", "Credit"], rows, {2, 3})
        elif args.name == "aging":
            ag = ledger.aging(firm, args.as_of)
            cur, body = ag.currency, ag.as_json()
            rows = [[a.client_name] + [format_minor(a.buckets[b], cur) for b in AGING_BUCKETS]
                    + [format_minor(-a.credit_minor, cur), format_minor(a.total_minor, cur)] for a in ag.rows]
            rows.append(["Total"] + [format_minor(ag.totals[b], cur) for b in AGING_BUCKETS]
                        + [format_minor(-ag.credit_minor, cur), format_minor(ag.total_minor, cur)])
            text = f"Accounts receivable aging as of {ag.as_of} ({cur}), days past due\n" + _table(
                ["Client", "Current", "1-30", "31-60", "61-90", "Over 90", "Credit", "Total"], rows, set(range(1, 8)))
        else:
            tl = ledger.trust_ledger(firm)
            cur, body = tl.currency, tl.as_json()
            rows = [[t.client_name, format_minor(t.balance_minor, cur)] for t in tl.balances]
            rows.append(["Total held for clients", format_minor(tl.client_total_minor, cur)])
            rows.append(["Trust bank balance", format_minor(tl.trust_bank_minor, cur)])
            text = f"Client trust ledger ({cur})\n" + _table(["Client", "Balance"], rows, {1})
        print(json.dumps(body, indent=2) if args.json else text)
    return 0


def _wrap(text: str, width: int = 80) -> str:
    """Wrapped with a hanging indent, never inside a `command` (it stays whole for copy and paste)."""
    parts = text.split("`")
    glued = "`".join(part.replace(" ", "\0") if i % 2 else part for i, part in enumerate(parts))
    return textwrap.fill(glued, width=width, subsequent_indent="    ", break_on_hyphens=False,
                         break_long_words=False).replace("\0", " ")


def cmd_status(args, settings: Settings) -> int:
    from core.services.setup import status_json

    with _firm(settings, readonly=True) as firm:
        status = status_json(firm)
    if args.json:
        print(json.dumps(status, indent=2))
        return 0
    f = status["firm"]
    print(f"{f['name']} ({f['country']}, {f['currency']}, {f['method']})" if f else f"No firm in {settings.db}")
    for step in status["steps"]:
        mark = {"done": "[x]", "warning": "[!]"}.get(step["state"], "[ ]")
        print(_wrap(f"{mark} {step['title']}: {step['message']}"))
    conn = status["connection"]
    print(f"QuickBooks: {conn.get('company_name') or conn.get('realm_id')} ({conn.get('environment')})"
          if conn else "QuickBooks: not connected")
    if conn:
        rolling, hard = conn.get("refresh_token_expires_at"), conn.get("refresh_token_hard_expires_at")
        print(_wrap(f"Authorization: renews on use until {rolling[:10] if rolling else 'unknown'}; "
                    f"five-year limit {hard[:10] if hard else 'not known yet (told at the next token refresh)'}"))
        if conn.get("expiry_warning"):
            print(_wrap("[!] " + conn["expiry_warning"]["message"]))
    reads = status.get("metered_reads")
    if reads:
        print(_wrap(("[!] " if reads["warning"] else "") + metered_text(reads)))
    print("Sync queue: " + ", ".join(f"{n} {state}" for state, n in status["queue"].items()))
    if status.get("lock_date"):
        print(f"Ledger locked up to and including {status['lock_date']}.")
    if status.get("customers_waiting"):
        print(_wrap(f"[!] {status['customers_waiting']} client(s) wait for you to choose their QuickBooks customer: "
                    "`ledgerlink customers list --proposed`."))
    if status.get("restore"):
        print(_wrap(f"[!] {status['restore']['message']}"))
    return 0


def metered_text(reads: dict) -> str:
    """The metered-read line of `ledgerlink status` from status_json's metered_reads."""
    text = f"Metered QuickBooks reads in {reads['month']}: {reads['count']:,} of {reads['budget']:,} a month"
    if reads["warning"]:
        text += (f" ({reads['count'] * 100 // reads['budget']}%): past the allowance QuickBooks blocks reads until "
                 "the month ends; hold off full reconciles (LEDGERLINK_SYNC__METERED_READS_BUDGET sets the budget)")
    return text + "."


def cmd_migrate(args, settings: Settings) -> int:
    from core.cli import open_existing_firm, require_firm_file
    from core.services.context import schema_version

    require_firm_file(settings)
    before = schema_version(settings)
    open_existing_firm(settings).close()
    after = schema_version(settings)
    if args.json:
        print(json.dumps({"ok": True, "from_version": before, "to_version": after}, indent=2))
    elif before == after:
        print(f"{settings.db} is at schema {after}, the newest this Ledgerlink knows; nothing to do.")
    else:
        print(f"Upgraded {settings.db} in place from schema {before} to {after}.")
    return 0


def cmd_users_grant(args, settings: Settings) -> int:
    from core.services.ledger import grant_role

    with _firm(settings) as firm:
        user = grant_role(firm, args.user, args.role)
    print(f"{user.name} is now {user.role} (granted by {user.granted_by}).")
    return 0


def cmd_users_list(args, settings: Settings) -> int:
    from core.services.ledger import list_users

    with _firm(settings, readonly=True) as firm:
        users = list_users(firm)
    print(_table(["User", "Role", "Granted by", "Since"], [[u.name, u.role, u.granted_by, u.granted_at] for u in users],
                 set()))
    return 0
