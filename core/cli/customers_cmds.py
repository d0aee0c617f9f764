"""`ledgerlink customers {list,link,new}`: which QBO customer each client is, decided by the admin."""

from __future__ import annotations

import argparse
import json

from core.cli import existing_firm as _firm
from core.settings import Settings

STATE_TEXT = {"linked": "linked", "proposed": "WAITS: same name in QuickBooks", "new": "new customer (decided)",
              "will_create": "new customer"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("customers", help="which QuickBooks customer each client is: proposals, links, new ones")
    cmds = p.add_subparsers(dest="customers_command", metavar="ACTION", required=True)
    ls = cmds.add_parser("list", help="every client, its QuickBooks name and link; proposals waiting for you")
    ls.add_argument("--proposed", action="store_true", help="only the clients waiting for a decision")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_list)
    ln = cmds.add_parser("link", help="link a client to an existing QuickBooks customer (admin)")
    ln.add_argument("client", help="client id or exact name")
    ln.add_argument("qbo", help="QuickBooks customer id or exact display name")
    ln.add_argument("--json", action="store_true")
    ln.set_defaults(func=cmd_link)
    nw = cmds.add_parser("new", help="give a client a new QuickBooks customer (admin)")
    nw.add_argument("client", help="client id or exact name")
    nw.add_argument("--name", help="its QuickBooks display name (default: the client's, numbered if taken)")
    nw.add_argument("--json", action="store_true")
    nw.set_defaults(func=cmd_new)
    jb = cmds.add_parser("jobs", help="matters as QuickBooks sub-customers: show the setting, or switch it (admin)")
    jb.add_argument("switch", nargs="?", choices=["on", "off"],
                    help="on: each matter's documents go to a sub-customer of the client's customer (before the "
                         "first document is synced)")
    jb.add_argument("--json", action="store_true")
    jb.set_defaults(func=cmd_jobs)


def _money(minor: int, currency: str) -> str:
    from core.money import format_minor

    return f"{format_minor(minor, currency)} {currency}"


def _print_identity(i) -> None:
    from core.services.customers import why_text

    state = STATE_TEXT[i.state] + (f" (by {i.decided_by})" if i.decided_by else "")
    qbo = f" #{i.qbo_id}" if i.qbo_id else ""
    print(f"{i.client_id:>5}  {i.client_name}  ->  {i.display_name}{qbo}  [{state}]")
    for why in i.renamed:
        print(f"       renamed: {why}")
    if i.proposal:
        c, p = i.proposal.customer, i.proposal
        print(f"       QuickBooks customer #{c.id} {c.display_name}, e-mail {c.email or 'none'}, open balance "
              f"{_money(c.balance_minor, p.currency)}; matches by {why_text(p.why)}")
        print(f"       decide: ledgerlink customers link {i.client_id} {c.id}   or   ledgerlink customers new "
              f"{i.client_id}")


def cmd_list(args, settings: Settings) -> int:
    from core.services import customers

    with _firm(settings, readonly=True) as firm:
        rows = customers.list_customers(firm)
        on, jobs = customers.matters_as_jobs(firm), customers.jobs(firm)
    if args.proposed:
        rows = [r for r in rows if r.state == "proposed"]
    if args.json:
        print(json.dumps({"customers": [r.as_json() for r in rows],
                          "proposed": sum(r.state == "proposed" for r in rows),
                          "matters_as_jobs": on, "jobs": jobs}, indent=2))
        return 0
    if not rows:
        print("No client waits for a decision." if args.proposed else "The firm has no clients yet.")
    for r in rows:
        _print_identity(r)
        for j in (j for j in jobs if j["client_id"] == r.client_id):
            state = f"#{j['qbo_id']}" if j["qbo_id"] else "(not in QuickBooks yet)"
            print(f"       sub-customer: {r.display_name}:{j['display_name']} {state}  (matter {j['reference']})")
    waiting = sum(r.state == "proposed" for r in rows)
    if waiting:
        print(f"{waiting} client(s) wait for your decision; their documents are not sent until then.")
    return 0


def _done(args, ident, message: str) -> int:
    if args.json:
        print(json.dumps({"ok": True, "customer": ident.as_json()}, indent=2))
    else:
        print(message)
    return 0


def cmd_link(args, settings: Settings) -> int:
    from core.services import customers

    with _firm(settings) as firm:
        ident = customers.link_customer(firm, args.client, args.qbo)
    return _done(args, ident, f"{ident.client_name} is linked to the QuickBooks customer {ident.display_name} "
                              f"(#{ident.qbo_id}); its documents go with the next sync.")


def cmd_new(args, settings: Settings) -> int:
    from core.services import customers

    with _firm(settings) as firm:
        ident = customers.new_customer(firm, args.client, args.name)
    return _done(args, ident, f"{ident.client_name} gets a new QuickBooks customer named {ident.display_name} with "
                              "the next sync.")


def cmd_jobs(args, settings: Settings) -> int:
    from core.services import customers

    with _firm(settings, readonly=args.switch is None) as firm:
        on = customers.matters_as_jobs(firm) if args.switch is None else \
            customers.set_matters_as_jobs(firm, args.switch == "on")
    if args.json:
        print(json.dumps({"matters_as_jobs": on}))
    elif on:
        print("Matters as sub-customers: on. Each matter's invoices, credit notes and payments go to a QuickBooks "
              "sub-customer of its client's customer.")
    else:
        print("Matters as sub-customers: off. Every document goes to its client's QuickBooks customer.")
    return 0
