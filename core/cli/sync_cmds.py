"""`ledgerlink` sub-commands of the sync area: sync [--once] [--json] [--dry-run], sync enable/disable, reconcile."""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys

from core.errors import NotFound, ValidationError
from core.money import format_minor
from core.settings import Settings
from core.text import counted

SHOW_PARKED = 20  # parked documents listed after a sync (all of them: `ledgerlink sync parked`)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of documents, 1 or more")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    """Add this area's sub-commands to the parser."""
    p = sub.add_parser("sync", help="push queued invoices, payments and credit notes to QuickBooks")
    p.add_argument("--once", action="store_true", help="push what is queued and stop (the default for scripts)")
    p.add_argument("--watch", action="store_true", help="keep running, pushing new documents as they are queued")
    p.add_argument("--json", action="store_true", help="machine-readable summary")
    p.add_argument("--dry-run", action="store_true", help="print the exact payloads it would send; send nothing")
    p.add_argument("--limit", type=_positive, metavar="N", help="with --dry-run: at most this many documents")
    p.set_defaults(func=cmd_sync)
    actions = p.add_subparsers(dest="sync_command", metavar="ACTION")
    e = actions.add_parser("enable", help='switch "Sales invoices" synchronisation on')
    e.add_argument("--from", dest="from_date", metavar="DATE", help="push only documents dated on or after DATE")
    e.set_defaults(func=cmd_enable)
    d = actions.add_parser("disable", help='switch "Sales invoices" synchronisation off (documents wait queued)')
    d.set_defaults(func=cmd_disable)
    k = actions.add_parser("parked", help="list parked documents with what to fix")
    k.add_argument("--json", action="store_true", help="machine-readable output")
    k.set_defaults(func=cmd_parked)
    t = actions.add_parser("retry", help="put parked documents back in the queue")
    t.add_argument("doc_type", nargs="?", choices=("invoice", "payment", "credit_note"))
    t.add_argument("doc_id", nargs="?", type=int)
    t.add_argument("--all", action="store_true", help="every parked document")
    t.set_defaults(func=cmd_retry)
    h = actions.add_parser("history", help="what was pushed when, by whom, with QBO's id; each park reason's history")
    h.add_argument("doc", nargs="?", metavar="DOC",
                   help="one document: its number, a payment's reference, or KIND ID (`invoice 12`)")
    h.add_argument("--search", metavar="TEXT", help="only documents whose number or client contains TEXT")
    h.add_argument("--json", action="store_true", help="machine-readable output")
    h.set_defaults(func=cmd_history)
    x = actions.add_parser("fix", help="fix a document parked because QuickBooks holds other figures")
    x.add_argument("doc_type", choices=("invoice", "payment", "credit_note"))
    x.add_argument("doc_id", type=int)
    how = x.add_mutually_exclusive_group(required=True)
    how.add_argument("--resend-with-tax", action="store_true", help="send it again with the ledger's tax explicitly")
    how.add_argument("--accept-qbo", action="store_true", help="record QuickBooks' tax in the ledger (dated adjustment)")
    x.add_argument("--date", metavar="DATE", help="with --accept-qbo: the adjustment's date (default today)")
    x.set_defaults(func=cmd_fix)

    r = sub.add_parser("reconcile", help="compare the ledger with what QuickBooks holds")
    r.add_argument("--json", action="store_true", help="machine-readable output")
    r.add_argument("--full", action="store_true",
                   help="read every QuickBooks document (default: only what changed since the last reconcile)")
    r.set_defaults(func=cmd_reconcile)


def _firm(settings: Settings, *, readonly: bool = False):
    from core.cli import open_existing_firm

    return open_existing_firm(settings, readonly=readonly)


class _Bar:
    """A one-line progress bar on a terminal, as wide as the terminal at most (it never wraps); each event
    replaces the previous line."""

    def __init__(self, stream, columns: int | None = None):
        self.stream = stream
        self.tty = stream.isatty()
        self.columns = columns or shutil.get_terminal_size((80, 24)).columns

    def line(self, event) -> str:
        width = max(self.columns - 1, 20)  # the last column would make some terminals wrap
        bar = 20
        done = min(bar, int(bar * event.sent / max(event.total, 1)))
        text = (f"[{'#' * done}{'.' * (bar - done)}] {event.sent}/{event.total} "
                f"{event.docs_per_minute:.0f}/min {event.counts.parked} parked {event.current or ''}")
        return text[:width].ljust(width)

    def __call__(self, event) -> None:
        if not self.tty:
            return
        self.stream.write("\r" + self.line(event))
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


WATCH_LOOK = 0.25
"""`sync --watch` looks at the local queue this often (a read of the firm file, no request to QBO)..."""
WATCH_SETTLE = 0.5
"""...and starts a run this long after it sees a document queued, so a burst of saves goes as one run."""
WATCH_PERIOD = 30.0
"""A run this long after the last one anyway (parked documents whose reason is gone go again); while documents
wait and no run could send any, the wait doubles (with jitter) up to an hour (core.qbo.backoff)."""


async def watch(firm, progress=None, *, look: float = WATCH_LOOK, settle: float = WATCH_SETTLE,
                period: float = WATCH_PERIOD, runs: int | None = None):
    """Push what is queued, then again within a second of each save (seen in the queue), until stopped;
    `runs` ends it after that many runs (tests). Every request goes through the client's limiter."""
    import time

    from core.services import sync

    done = 0
    while True:
        summary = await sync.run_sync(firm, once=True, progress=progress, owner="ledgerlink sync --watch")
        done += 1
        if summary.stopped or (runs is not None and done >= runs):
            return summary
        since, wait = time.monotonic(), sync.next_run_in(firm, summary, period)
        # documents the run left queued (QuickBooks failing for now) wait for their backoff; a new save wakes it
        left = sync.queue_counts(firm).queued
        while sync.queue_counts(firm).queued <= left and time.monotonic() - since < wait:
            await asyncio.sleep(look)
        await asyncio.sleep(settle)


def _map_hint(fixes) -> str | None:
    """The command-line way to the maps that parked reasons are fixed in (their `fix` names the Mapping tab)."""
    kinds = sorted({f.tab for f in fixes if f is not None and f.screen == "mapping" and f.tab in MAP_KINDS})
    if not kinds:
        return None
    options = " / ".join(f"`ledgerlink map options {k}`" for k in kinds)
    kind = kinds[0] if len(kinds) == 1 else "KIND"
    return (f"To map from the command line: {options}, then `ledgerlink map set {kind} LEDGER QBO`; a parked "
            "document goes again by itself once its map is there.")


MAP_KINDS = ("sales", "gl", "tax")


def cmd_sync(args, settings: Settings) -> int:
    from core.services import sync

    if args.limit is not None and not args.dry_run:
        raise ValidationError("--limit goes with --dry-run only: `ledgerlink sync` pushes everything queued")
    if args.dry_run and args.watch:
        raise ValidationError("--dry-run shows what one sync would send and stops: leave out --watch")
    firm = _firm(settings)
    try:
        if args.dry_run:
            from core.services.sync import dumps

            previews = asyncio.run(sync.dry_run(firm, limit=args.limit))
            if args.json:
                print(dumps([p.as_json() for p in previews]))
            elif not previews:
                print("Nothing is queued: a sync now would send nothing.")
            else:
                for p in previews:
                    print(f"== {p.label}: {p.operation}")
                    print(f"   parked: {p.problem}" if p.problem else dumps(p.body))
                hint = _map_hint(p.fix for p in previews)
                if hint:
                    print(hint)
            return 0
        bar = _Bar(sys.stderr) if not args.json else None
        try:
            summary = asyncio.run(watch(firm, bar) if args.watch else sync.run_sync(firm, once=True, progress=bar))
        finally:
            if bar:
                bar.close()
        if args.json:
            print(json.dumps(summary.as_json(), indent=2))
        else:
            print(summary.stopped or summary.message)
            for d in summary.differences:
                print(f"  total differs: {d.label}: ledger {d.ledger_minor} vs QuickBooks {d.qbo_minor} (minor units)")
            parked = sync.parked(firm)
            for doc in parked[:SHOW_PARKED]:
                print(f"  parked: {doc.label}: {doc.reason}")
                for option in sync.fixes(doc):
                    print(f"    fix: {option.command}")
            if len(parked) > SHOW_PARKED:
                print(f"  ... and {len(parked) - SHOW_PARKED} more: `ledgerlink sync parked` lists them all")
            hint = _map_hint(p.fix for p in parked)
            if hint:
                print(hint)
        return 0 if summary.ok else 1
    finally:
        firm.close()


def cmd_enable(args, settings: Settings) -> int:
    from core.services.qbo import set_sync_enabled

    firm = _firm(settings)
    try:
        info = set_sync_enabled(firm, True, args.from_date)
        since = f" for documents dated on or after {info.sync_from}" if info.sync_from else ""
        print(f"Sales invoices synchronisation is on{since}.")
        return 0
    finally:
        firm.close()


def cmd_disable(args, settings: Settings) -> int:
    from core.services.qbo import set_sync_enabled

    firm = _firm(settings)
    try:
        set_sync_enabled(firm, False)
        print("Sales invoices synchronisation is off: new documents wait in the queue.")
        return 0
    finally:
        firm.close()


def cmd_parked(args, settings: Settings) -> int:
    from core.services import sync

    firm = _firm(settings, readonly=True)
    try:
        rows = sync.parked(firm)
        if args.json:
            print(json.dumps([p.as_json() for p in rows], indent=2))
        else:
            for p in rows:
                print(f"{p.doc_type} {p.doc_id}  {p.label}: {p.reason}")
            print(f"{len(rows)} parked")
            hint = _map_hint(p.fix for p in rows)
            if hint:
                print(hint)
        return 0
    finally:
        firm.close()


def cmd_history(args, settings: Settings) -> int:
    from core.services import history

    firm = _firm(settings, readonly=True)
    try:
        if args.doc:
            doc = history.document(firm, *history.find(firm, args.doc))
            if args.json:
                print(json.dumps(doc.as_json(), indent=2))
                return 0
            d = doc.doc
            print(f"{d.label} ({d.client}): QuickBooks id {d.qbo_id or '-'}, {d.state or 'not queued'}")
            for e in doc.entries:
                qbo = f" QBO {e.qbo_id}" if e.qbo_id else ""
                version = f" v{e.version}" if e.version else ""
                print(f"  {e.at[:19].replace('T', ' ')}  {e.who}: {e.what}{version}{qbo}  {e.text()}".rstrip())
            return 0
        rows = history.documents(firm, search=args.search)
        if args.json:
            print(json.dumps([r.as_json() for r in rows], indent=2))
            return 0
        if rows:  # 80 columns: the year and the seconds are in --json and in DOC's own history
            print(f"{'When':<11} {'Document':<13} {'Client':<12} {'Op':<6} {'QBO':>5} {'State':<6} By")
        for r in rows:
            print(f"{r.last_at[5:16].replace('T', ' '):<11} {_cut(_short(r), 13):<13} {_cut(r.client, 12):<12} "
                  f"{r.operation or '-':<6} {r.qbo_id or '-':>5} {r.state or '-':<6} {r.who}")
        print(counted(len(rows), "document"))
        return 0
    finally:
        firm.close()


def _short(row) -> str:
    """A history row's document as the list shows it: its number (INV-, CR-, WO- say the kind), Pmt and a
    payment's reference."""
    return ("Pmt " if row.doc_type.endswith("payment") else "") + row.number


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def cmd_retry(args, settings: Settings) -> int:
    from core.services import sync

    if not args.all and (args.doc_type is None or args.doc_id is None):
        print("error: name a document (e.g. `sync retry invoice 12`) or use --all", file=sys.stderr)
        return 2
    firm = _firm(settings)
    try:
        if args.all:
            n = sync.retry_all(firm)
            print(f"{counted(n, 'document')} back in the queue: they go with the next sync." if n
                  else "Nothing is parked.")
            return 0
        if not sync.retry(firm, args.doc_type, args.doc_id):
            raise NotFound(f"{args.doc_type.replace('_', ' ').capitalize()} {args.doc_id} is not parked: "
                           "`ledgerlink sync parked` lists the parked documents with their ids")
        print(f"1 document back in the queue ({args.doc_type.replace('_', ' ')} {args.doc_id}): "
              "it goes with the next sync.")
        return 0
    finally:
        firm.close()


def cmd_fix(args, settings: Settings) -> int:
    from core.services import sync

    if args.date and not args.accept_qbo:
        raise ValidationError("--date goes with --accept-qbo only (the tax adjustment's date)")
    firm = _firm(settings)
    try:
        if args.resend_with_tax:
            print(sync.resend_with_tax(firm, args.doc_type, args.doc_id))
        else:
            print(sync.accept_qbo(firm, args.doc_type, args.doc_id, date=args.date))
        return 0
    finally:
        firm.close()


def cmd_reconcile(args, settings: Settings) -> int:
    from core.services import sync

    firm = _firm(settings)
    try:
        result = asyncio.run(sync.reconcile(firm, full=args.full))
        cur = result.currency
        if args.json:
            print(json.dumps(result.as_json(), indent=2))
        else:
            print(f"Checked {counted(result.checked, 'document')}: "
                  + ("the ledger and QuickBooks agree." if result.ok else "differences found."))
            for m in result.missing_in_qbo:
                print(f"  missing in QuickBooks: {m['label']}")
            for e in result.extra_in_qbo:
                print(f"  extra in QuickBooks: {e['entity']} {e['qbo_id']} {e['doc_number'] or ''}".rstrip())
            for d in result.different:
                print(f"  different ({', '.join(d['fields'])}): {d['label']}")
            for a in (a for a in result.ar_clients if a["difference_minor"]):
                print(f"  receivable differs for {a['client']} (client {a['client_id']}): ledger "
                      f"{format_minor(a['ledger_minor'], cur)} vs QuickBooks {format_minor(a['qbo_minor'], cur)}")
            for i in (i for i in result.income_items if i["difference_minor"]):
                print(f"  income differs for {i['item']} (item {i['qbo_item_id']}): ledger "
                      f"{format_minor(i['ledger_minor'], cur)} vs QuickBooks {format_minor(i['qbo_minor'], cur)}")
            for t in result.documents:
                print(f"  {t['doc_type'].replace('_', ' ')}s: ledger {t['ledger_count']} "
                      f"({format_minor(t['ledger_total_minor'], cur)}), QuickBooks {t['qbo_count']} "
                      f"({format_minor(t['qbo_total_minor'], cur)})")
            for note in result.notes:
                print(f"  note: {note}")
        return 0 if result.ok else 1
    finally:
        firm.close()
