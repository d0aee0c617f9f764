"""`ledgerlink sandbox`: serve the local QBO sandbox; `ledgerlink sandbox dump`: show what it holds (the sandbox's own
command line, registered by core.cli like every area)."""

from __future__ import annotations

import argparse
import json
import sys
import threading
from pathlib import Path

from core import paths
from core.errors import ConfigError
from core.sandbox.injection import SpecError
from core.sandbox.injection import __doc__ as SPEC_HELP
from core.settings import LOCAL_CLIENT_ID, LOCAL_CLIENT_SECRET, LOCAL_REDIRECT_URI, Settings

COUNTRY_CHOICES = ("US", "CA", "UK", "AU", "NZ")


def register(sub: argparse._SubParsersAction) -> None:
    """Add this area's sub-commands to the parser."""
    parser = sub.add_parser(
        "sandbox",
        help="serve the local QBO sandbox (QBO Accounting API v3 + Intuit OAuth 2.0 emulator)",
        description="Serve a local emulator of QuickBooks Online and Intuit OAuth 2.0 until Ctrl-C. "
        "It prints its base URL and the client id, secret and redirect URI it accepts; its OpenID "
        "discovery document is at /.well-known/openid-configuration.",
        epilog=SPEC_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _common(parser)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    parser.add_argument("--company", action="append", choices=COUNTRY_CHOICES, metavar="CC",
                        help="seed a company for this country (US, CA, UK, AU, NZ; repeatable; default all five)")
    parser.add_argument("--no-zero-tax", action="append", choices=COUNTRY_CHOICES, metavar="CC", default=[],
                        help="seed this country's company without a zero-rate tax code (repeatable)")
    parser.add_argument("--faults", metavar="SPEC", help="faults to inject (syntax below)")
    parser.add_argument("--limits", metavar="SPEC", help="throttles (syntax below; default QBO's limits)")
    parser.add_argument("--company-setting", action="append", default=[], metavar="[CC:]KEY=VALUE",
                        help="a company setting (tax_overrides, tax_rounding, sparse_line, multicurrency, "
                        "metered_cap, job_payments) for every company or one country's; repeatable")
    parser.add_argument("--access-token-lifetime", type=int, metavar="SECONDS",
                        help="seconds an access token lives (default 3600; e.g. 5 or 30 to test refreshes)")
    parser.add_argument("--refresh-rotation", choices=("always", "daily"),
                        help="a refresh issues a new refresh token every time (always, default) or once a day (daily)")
    parser.add_argument("--client-id", default=LOCAL_CLIENT_ID, help=f"OAuth client id (default {LOCAL_CLIENT_ID})")
    parser.add_argument("--client-secret", default=LOCAL_CLIENT_SECRET, help="OAuth client secret (default printed)")
    parser.add_argument("--redirect-uri", default=LOCAL_REDIRECT_URI,
                        help=f"the one redirect URI accepted (default {LOCAL_REDIRECT_URI})")
    parser.set_defaults(func=serve)
    inner = parser.add_subparsers(dest="sandbox_command", metavar="COMMAND")
    dump = inner.add_parser("dump", help="print what each sandbox company holds")
    _common(dump)
    dump.add_argument("--json", action="store_true", help="print JSON (every entity of every company)")
    dump.set_defaults(func=dump_cmd)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", dest="sandbox_db", type=Path, metavar="PATH",
                        help="the sandbox's own SQLite file (default: sandbox.db in the platform data dir)")


def _db(args: argparse.Namespace) -> Path:
    return args.sandbox_db or paths.sandbox_db_path()


def serve(args: argparse.Namespace, settings: Settings) -> int:
    from core.sandbox.served import start_embedded

    company_settings: dict[str, dict[str, str]] = {}
    for item in args.company_setting:
        who, _, pair = item.rpartition(":") if ":" in item.partition("=")[0] else ("*", "", item)
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--company-setting {item!r}: expected [CC:]KEY=VALUE, e.g. CA:tax_overrides=on")
        company_settings.setdefault(who.strip().upper() or "*", {})[key.strip()] = value
    try:
        sandbox = start_embedded(
            _db(args), host=args.host, port=args.port,
            companies=tuple(args.company or COUNTRY_CHOICES), no_zero_tax=tuple(args.no_zero_tax),
            faults=args.faults, limits=args.limits, client_id=args.client_id,
            client_secret=args.client_secret, redirect_uri=args.redirect_uri, company_settings=company_settings,
        )
    except SpecError as exc:
        raise ConfigError(f"Bad SPEC: {exc}") from exc
    except ValueError as exc:
        raise ConfigError(f"--company-setting: {exc}") from exc
    from core.sandbox.oauth import configure

    try:
        configure(sandbox.state, access_token_lifetime=args.access_token_lifetime,
                  refresh_rotation=args.refresh_rotation)
    except ValueError as exc:
        sandbox.stop()
        raise ConfigError(f"--access-token-lifetime: {exc}") from exc
    print(f"QBO sandbox serving at {sandbox.base_url}")
    print(f"  discovery:     {sandbox.discovery_url}")
    print(f"  client id:     {sandbox.client_id}")
    print(f"  client secret: {sandbox.client_secret}")
    print(f"  redirect URI:  {sandbox.redirect_uri}")
    for country, realm in sandbox.realm_ids.items():
        print(f"  company {country}:    realm {realm}")
    for summary in sandbox.state.summary():
        print(f"  settings {summary['country']}:   " + ", ".join(f"{k}={v}" for k, v in summary["settings"].items()))
    print(f"  state file:    {sandbox.state.db_path}")
    print("Press Ctrl-C to stop.", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        print("Stopping.", file=sys.stderr)
    finally:
        sandbox.stop()
    return 0


def dump_cmd(args: argparse.Namespace, settings: Settings) -> int:
    from core.sandbox import jsonfmt
    from core.sandbox.entities import ENTITY_TYPES
    from core.sandbox.store import SandboxState

    db = _db(args)
    if not db.exists():
        raise ConfigError(f"No sandbox state at {db}: run `ledgerlink sandbox` first (or pass --db)")
    state = SandboxState(db, companies=())
    try:
        if args.json:
            out = [dict(summary, entities={t: state.entities(summary["realm_id"], t) for t in ENTITY_TYPES})
                   for summary in state.summary()]
            print(json.dumps(json.loads(jsonfmt.dumps(out)), indent=1, ensure_ascii=False))
            return 0
        for summary in state.summary():
            flag = " (no zero-rate tax code)" if summary["no_zero_tax"] else ""
            print(f"{summary['country']}  realm {summary['realm_id']}  {summary['name']}{flag}")
            print("    settings      " + ", ".join(f"{k}={v}" for k, v in summary["settings"].items()))
            print(f"    metered calls {summary['metered_this_month']} this month")
            for etype, n in summary["counts"].items():
                print(f"    {etype:<13} {n}")
        return 0
    finally:
        state.close()
