"""`ledgerlink` sub-commands of the qbo area: connect, disconnect, pull and map.

(`ledgerlink sync enable|disable` belongs to core.cli.sync_cmds, which calls core.services.qbo.set_sync_enabled.)
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import json
import sys
import threading
from dataclasses import asdict

from core.errors import ConnectError, NotFound, ValidationError
from core.services import qbo as svc
from core.services import writeoff
from core.services.writeoff import DEFAULT_ITEM_NAME
from core.text import counted


def register(sub: argparse._SubParsersAction) -> None:
    """Add this area's sub-commands to the parser."""
    p = sub.add_parser("connect", help="connect to a QuickBooks Online company (OAuth)")
    p.add_argument("--url-only", action="store_true", help="print the authorization URL and stop (finish with --complete)")
    p.add_argument("--complete", metavar="REDIRECT_URL", help="finish a started connect with the redirect URL")
    p.add_argument("--no-listen", action="store_true", help="do not listen for the loopback callback; paste only")
    p.add_argument("--no-pull", action="store_true", help="do not pull the reference data after connecting")
    p.set_defaults(func=cmd_connect)

    p = sub.add_parser("disconnect", help="revoke the QuickBooks tokens and forget them")
    p.add_argument("--purge", action="store_true",
                   help="also forget the links between ledger documents and QuickBooks ids")
    p.set_defaults(func=cmd_disconnect)

    p = sub.add_parser("pull", help="refresh the QuickBooks reference data and show what changed")
    p.add_argument("--json", action="store_true", help="print the diff as JSON")
    p.set_defaults(func=cmd_pull)

    p = sub.add_parser("map", help="show and edit the sales, GL and tax maps")
    msub = p.add_subparsers(dest="map_command", metavar="ACTION", required=True)
    m = msub.add_parser("show", help="show a map (all three by default)")
    m.add_argument("kind", nargs="?", choices=svc.KINDS)
    m.add_argument("--json", action="store_true")
    m.set_defaults(func=cmd_map_show)
    m = msub.add_parser("options", help="the QuickBooks references a map can use, with their ids")
    m.add_argument("kind", choices=svc.KINDS)
    m.add_argument("ledger", nargs="?", help="account code or tax rate name: say which of them it can take")
    m.add_argument("--json", action="store_true", help="machine-readable output")
    m.set_defaults(func=cmd_map_options)
    m = msub.add_parser("set", help="map a ledger account or tax rate to a QuickBooks reference")
    m.add_argument("kind", choices=svc.KINDS)
    m.add_argument("ledger", help="account code, or tax rate name")
    m.add_argument("qbo", help="QuickBooks id or exact name (`ledgerlink map options KIND` lists them)")
    m.set_defaults(func=cmd_map_set)
    m = msub.add_parser("unset", help="remove one mapping")
    m.add_argument("kind", choices=svc.KINDS)
    m.add_argument("ledger", help="account code, or tax rate name")
    m.set_defaults(func=cmd_map_unset)
    m = msub.add_parser("suggest", help="suggest mappings by name and type")
    m.add_argument("kind", nargs="?", choices=svc.KINDS)
    m.add_argument("--apply", action="store_true", help="apply the suggestions")
    m.set_defaults(func=cmd_map_suggest)
    m = msub.add_parser("export", help="write the maps to a CSV file")
    m.add_argument("file")
    m.set_defaults(func=cmd_map_export)
    m = msub.add_parser("import", help="replace the maps named in a CSV file (all rows or none)")
    m.add_argument("file")
    m.set_defaults(func=cmd_map_import)
    m = msub.add_parser("writeoff", help="the QuickBooks product/service each bad-debt account's write-offs need")
    m.add_argument("--create", action="store_true", help="create the missing products/services in QuickBooks")
    m.add_argument("--name", help=f"the new product/service's name (default: {DEFAULT_ITEM_NAME!r}, numbered if taken)")
    m.add_argument("--json", action="store_true", help="machine-readable output")
    m.set_defaults(func=cmd_map_writeoff)


def _firm(settings, *, readonly: bool = False):
    from core.cli import open_existing_firm

    return open_existing_firm(settings, readonly=readonly)


# -- connect ---------------------------------------------------------------------------------------
async def _wait_for_redirect(pending, listen: bool, on_empty=None) -> str:
    """The redirect URL: pasted on stdin or received on the loopback listener, whichever comes first.
    An empty line calls `on_empty()` (the built-in sandbox approves by itself) when given."""
    loop = asyncio.get_running_loop()
    pasted: asyncio.Future[str] = loop.create_future()

    def _deliver(line: str) -> None:
        if not pasted.done():
            pasted.set_result(line)

    def read_stdin() -> None:
        line = sys.stdin.readline()
        try:
            loop.call_soon_threadsafe(_deliver, line)
        except RuntimeError:
            pass  # the callback won and the command has finished: the late line is not needed

    threading.Thread(target=read_stdin, daemon=True).start()
    waiters: set[asyncio.Future] = {pasted}
    if listen:
        waiters.add(asyncio.ensure_future(svc.wait_for_callback(pending.redirect_uri)))
    try:
        while True:
            done, waiters = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is not pasted and task.exception() is not None:
                    print(f"note: {task.exception()}", file=sys.stderr)
                    continue
                text = task.result()
                if task is pasted and not text.strip():
                    if on_empty is not None:
                        return on_empty()
                    raise ConnectError("Nothing was pasted: run `ledgerlink connect` again and paste the address.")
                return text
            if not waiters:
                raise ConnectError("Nothing was pasted: run `ledgerlink connect` again and paste the address.")
    finally:
        for task in waiters:
            task.cancel()


def _print_connected(info) -> None:
    print(f"Connected to {info.company_name or 'QuickBooks company'} (realm {info.realm_id}, {info.environment}).")
    if info.probe is not None:
        print(info.probe.message)


def _print_diff(diff) -> None:
    line = f"Reference data of {diff.company_name or 'the company'}: {diff.counts_text()}."
    print(line if len(line) <= 80 else line.replace(": ", ":\n  ", 1))
    for title, changes in (("New", diff.new), ("Renamed", diff.renamed), ("Made inactive", diff.inactive), ("Gone", diff.gone)):
        for c in changes:
            extra = f" (was {c.old_name})" if c.old_name else ""
            print(f"  {title}: {c.entity} {c.name}{extra} [id {c.qbo_id}]")
    for f in diff.flagged:
        print(f"  Check the {svc.KIND_TITLES[f.kind]}: {f.qbo_name} is {f.problem} in QuickBooks")
    if not diff.changed and not diff.flagged and not diff.first_pull:
        print("Nothing changed since the last refresh.")


def _still_pending(firm, pending) -> bool:
    latest = svc.latest_pending(firm)
    return latest is not None and latest.state == pending.state


async def _connect(firm, args) -> int:
    if args.complete is not None:
        info = await svc.complete_connect_async(firm, args.complete)
    else:
        if args.url_only and svc.approves_locally(firm):
            raise ConnectError("--url-only cannot work with the built-in sandbox: it answers only while a ledgerlink "
                               "command runs, so its address would stop working at once. Run `ledgerlink connect` "
                               "and press Enter to approve it there.")
        pending = svc.begin_connect(firm)
        print("Open this address in a browser and approve access as a QuickBooks admin:")
        print()
        print(pending.url)
        print()
        if sys.stdout.isatty():
            print(pending.qr_text)
        if args.url_only:
            print("Then run: ledgerlink connect --complete '<the address your browser was sent to>'")
            return 0
        if pending.loopback and not args.no_listen:
            print("When done, the browser comes back here by itself, or paste the whole address")
            print("your browser was sent to and press Enter:")
        else:
            print("When done, paste the whole address your browser was sent to and press Enter:")
        on_empty = None
        if svc.approves_locally(firm):
            print("(This is the built-in sandbox: just press Enter to approve it here.)")
            on_empty = lambda: svc.approve_locally(firm, pending)  # noqa: E731
        sys.stdout.flush()
        while True:
            redirect = await _wait_for_redirect(pending, pending.loopback and not args.no_listen, on_empty)
            try:
                info = await svc.complete_connect_async(firm, redirect)
                break
            except ConnectError as exc:
                if not _still_pending(firm, pending):
                    raise
                # a garbled or wrong paste leaves this attempt open: let the admin paste again
                print(f"error: {exc}", file=sys.stderr)
                print("Paste the address again and press Enter (Ctrl+C stops):")
                sys.stdout.flush()
    _print_connected(info)
    if not args.no_pull:
        _print_diff(await svc.pull_reference_async(firm))
    return 0 if info.probe is None or info.probe.ok else 1


def cmd_connect(args, settings) -> int:
    firm = _firm(settings)
    try:
        return asyncio.run(_connect(firm, args))
    finally:
        firm.close()


def cmd_disconnect(args, settings) -> int:
    firm = _firm(settings)
    try:
        print(svc.disconnect(firm, purge=args.purge).message)
        return 0
    finally:
        firm.close()


def cmd_pull(args, settings) -> int:
    firm = _firm(settings)
    try:
        diff = svc.pull_reference(firm, progress=None if args.json else (lambda m: print(m + "...", file=sys.stderr)))
        if args.json:
            print(json.dumps(asdict(diff), indent=2))
        else:
            _print_diff(diff)
        return 0
    finally:
        firm.close()


# -- map -------------------------------------------------------------------------------------------
def _ledger_id(firm, kind: str, text: str) -> int:
    items = svc.ledger_items(firm, kind)
    for item in items:
        if text in (item.key, str(item.ledger_id)) or text.lower() == item.name.lower():
            return item.ledger_id
    raise NotFound(f"No ledger item {text!r} in the {svc.KIND_TITLES[kind]}: see `ledgerlink map show {kind}`")


def _qbo_id(firm, kind: str, text: str, ledger: str) -> str:
    refs = svc.qbo_refs(firm, kind)
    for ref in refs:
        if ref.qbo_id == text:
            return ref.qbo_id
    title = svc.KIND_TITLES[kind]
    matches = [r for r in refs if r.name.lower() == text.strip().lower() and r.present]
    active = [r for r in matches if r.active]
    if len(matches) == 1 or len(active) == 1:
        return (active or matches)[0].qbo_id
    if matches:
        listed = "; ".join(f"id {r.qbo_id} ({r.type}{'' if r.active else ', inactive'})" for r in matches)
        raise NotFound(f"{len(matches)} QuickBooks references for the {title} are named {text!r}: {listed}. "
                       f"Give the id instead, e.g. `ledgerlink map set {kind} '{ledger}' {matches[0].qbo_id}`")
    names = {r.name.lower(): r for r in refs if r.present}
    close = [names[n] for n in difflib.get_close_matches(text.strip().lower(), list(names), n=3, cutoff=0.6)]
    hint = f" Did you mean {' or '.join(f'{r.name!r} (id {r.qbo_id})' for r in close)}?" if close else ""
    raise NotFound(f"No QuickBooks reference for the {title} has the id or name {text!r}.{hint} "
                   f"`ledgerlink map options {kind}` lists them; `ledgerlink pull` refreshes them from QuickBooks.")


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def _map_lines(rows, width: int = 80) -> list[str]:
    """One line a row within `width` columns: long names and types are shortened, never a code or a QBO id."""
    with_key = any(r.ledger_key != r.ledger_name for r in rows)
    key_w = max((len(r.ledger_key) for r in rows), default=0) if with_key else 0
    targets = []
    for r in rows:
        tail = f" [{r.qbo_id}]" if r.qbo_id else ""
        tail += "" if r.status in ("mapped", "unmapped") else f" ({r.status} in QuickBooks)"
        targets.append(_fit(r.qbo_name or "", 30 - len(tail)) + tail if r.qbo_id else "-")
    target_w = max((len(t) for t in targets), default=1)
    room = width - 3 - (key_w + 1 if with_key else 0) - 4 - target_w - 1
    name_w = min(max((len(r.ledger_name) for r in rows), default=0), max(room - 12, 20))
    detail_w = min(max((len(r.ledger_detail) for r in rows), default=0), max(room - name_w, 8))
    lines = []
    for r, target in zip(rows, targets):
        key = f"{r.ledger_key:<{key_w}} " if with_key else ""
        lines.append(f" {'*' if r.required else ' '} {key}{_fit(r.ledger_name, name_w):<{name_w}} "
                     f"{_fit(r.ledger_detail, detail_w):<{detail_w}} -> {target}")
    return lines


def cmd_map_show(args, settings) -> int:
    firm = _firm(settings, readonly=True)
    try:
        kinds = [args.kind] if args.kind else list(svc.KINDS)
        if args.json:
            print(json.dumps({k: [asdict(r) for r in svc.list_map(firm, k)] for k in kinds}, indent=2))
            return 0
        for kind in kinds:
            print(svc.KIND_TITLES[kind])
            for line in _map_lines(svc.list_map(firm, kind)):
                print(line)
            print()
        print("* required by the setup checklist")
        return 0
    finally:
        firm.close()


def cmd_map_options(args, settings) -> int:
    firm = _firm(settings, readonly=True)
    try:
        ledger_id = _ledger_id(firm, args.kind, args.ledger) if args.ledger else None
        options = svc.list_options(firm, args.kind, ledger_id)
        if args.json:
            print(json.dumps([asdict(o) for o in options], indent=2))
            return 0
        shown = [o for o in options if o.valid] if args.ledger else list(options)
        id_w = max((len(o.qbo_id) for o in shown), default=2)
        type_w = min(max((len(o.type) for o in shown), default=4), 20)
        for o in shown:
            note = o.reason if not o.valid else f"used by {o.used_by}" if o.used_by else ""
            line = f"{o.qbo_id:>{id_w}}  {_fit(o.type, type_w):<{type_w}}  {o.name}"
            print(f"{line}  ({note})" if note else line)
        if not options:
            print(f"No QuickBooks references for the {svc.KIND_TITLES[args.kind]}: run `ledgerlink pull`.")
        elif len(shown) < len(options):
            print(f"{counted(len(options) - len(shown), 'other reference')} cannot take {args.ledger} "
                  f"(`ledgerlink map options {args.kind}` lists every one).")
        return 0
    finally:
        firm.close()


def cmd_map_set(args, settings) -> int:
    firm = _firm(settings)
    try:
        ledger_id = _ledger_id(firm, args.kind, args.ledger)
        row = svc.set_mapping(firm, args.kind, ledger_id, _qbo_id(firm, args.kind, args.qbo, args.ledger))
        print(row.message)
        return 0
    finally:
        firm.close()


def cmd_map_unset(args, settings) -> int:
    firm = _firm(settings)
    try:
        ledger_id = _ledger_id(firm, args.kind, args.ledger)
        name = next(i.name for i in svc.ledger_items(firm, args.kind) if i.ledger_id == ledger_id)
        removed = svc.unset_mapping(firm, args.kind, ledger_id)
        print(f"{name} is no longer mapped." if removed else f"{name} was not mapped: nothing to remove.")
        return 0
    finally:
        firm.close()


def cmd_map_suggest(args, settings) -> int:
    firm = _firm(settings)
    try:
        suggestions = tuple(s for k in ([args.kind] if args.kind else svc.KINDS) for s in svc.suggest(firm, k))
        targets = [_fit(s.qbo_name, 30 - len(s.qbo_id) - 3) + f" [{s.qbo_id}]" for s in suggestions]
        name_w = min(max((len(s.ledger_name) for s in suggestions), default=0),
                     max(80 - 6 - 4 - max((len(t) for t in targets), default=0) - 8, 16))
        for s, target in zip(suggestions, targets):
            print(f"{s.kind:<5} {_fit(s.ledger_name, name_w):<{name_w}} -> {target}  ({s.score:.2f})")
        if not suggestions:
            print("No suggestions: everything is mapped, or nothing looks alike.")
        if args.apply and suggestions:
            svc.apply_suggestions(firm, suggestions)
            print(f"Applied {counted(len(suggestions), 'suggestion')}.")
        return 0
    finally:
        firm.close()


def cmd_map_export(args, settings) -> int:
    firm = _firm(settings, readonly=True)
    try:
        print(f"Wrote {counted(svc.export_map(firm, args.file), 'mapping')} to {args.file}.")
        return 0
    finally:
        firm.close()


def cmd_map_import(args, settings) -> int:
    firm = _firm(settings)
    try:
        print(f"Imported {counted(svc.import_map(firm, args.file), 'mapping')} from {args.file}.")
        return 0
    finally:
        firm.close()


def _print_fix(fix) -> None:
    gl = f"{fix.qbo_account_name} [{fix.qbo_account_id}]" if fix.qbo_account_id else "not mapped"
    if fix.gl_status not in ("mapped", "unmapped"):
        gl += f" ({fix.gl_status} in QuickBooks)"
    item = f"{fix.item_name} [{fix.item_id}]" if fix.item_id else "none"
    print(f"  {fix.account_label}: GL account map -> {gl}; product/service -> {item}; {fix.parked} parked")
    print(f"    {fix.next_step}")


def cmd_map_writeoff(args, settings) -> int:
    firm = _firm(settings)
    try:
        results, errors = [], []
        if args.create:
            todo = [f for f in writeoff.writeoff_fixes(firm) if not f.ready]
            if args.name and len(todo) > 1:
                raise ValidationError("--name names one product/service, and more than one bad-debt account needs "
                                      "one: run without --name (each gets the default name, numbered)")
            for fix in todo:
                try:
                    results.append(writeoff.create_writeoff_item(firm, fix.account_id, args.name))
                except ValidationError as exc:
                    errors.append({"account_id": fix.account_id, "message": str(exc)})
        fixes = writeoff.writeoff_fixes(firm)
        if args.json:
            doc = {"fixes": [f.as_json() for f in fixes]}
            if args.create:
                doc.update(results=[r.as_json() for r in results], errors=errors)
            print(json.dumps(doc, indent=2))
        else:
            for r in results:
                print(r.message)
            for e in errors:
                print(f"error: {e['message']}", file=sys.stderr)
            print("Write-offs: the QuickBooks product/service of each bad-debt account")
            for fix in fixes:
                _print_fix(fix)
            if not fixes:
                print("  The ledger has no bad-debt account (Setup > Accounts).")
        return 0 if not args.create or all(f.ready for f in fixes) else 1
    finally:
        firm.close()
