"""`ledgerlink` sub-commands (no Textual here: `tui.cli` opens the TUI when no sub-command is given).

Each area registers its own sub-commands from its module: ledger_cmds, qbo_cmds, ... (the sandbox's own command
line lives with it, in core.sandbox.cli).
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import json
import logging
import os
import re
import sqlite3
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, NoReturn, Sequence

from core.errors import ConfigError, LedgerlinkError
from core.settings import Settings
from core.text import NeutralStream, neutralise

if TYPE_CHECKING:
    from core.services.context import Firm

log = logging.getLogger(__name__)

AREAS = ("core.cli.ledger_cmds", "core.cli.setup_cmds", "core.sandbox.cli", "core.cli.qbo_cmds",
         "core.cli.sync_cmds", "core.cli.trust_cmds", "core.cli.lock_cmds", "core.cli.customers_cmds",
         "core.cli.doc_cmds", "core.cli.accounts_cmds")


class _Parser(argparse.ArgumentParser):
    """argparse, but a mistake on a command line that asks for --json is also told as JSON on stdout."""

    json_errors = False

    def parse_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                   namespace: argparse.Namespace | None = None) -> argparse.Namespace:
        _Parser.json_errors = "--json" in (sys.argv[1:] if args is None else args)
        return super().parse_args(args, namespace)

    def error(self, message: str) -> NoReturn:
        message = neutralise(message)
        typo = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if typo:
            close = difflib.get_close_matches(typo[1], re.findall(r"'([^']*)'", typo[2]), n=1, cutoff=0.6)
            message += f": did you mean '{close[0]}'?" if close else ""
        if _Parser.json_errors:
            print(json.dumps({"ok": False, "error": message, "problems": [], "usage": self.format_usage().strip()},
                             indent=2))
        super().error(message)


def build_parser(extra_areas: tuple[str, ...] = ()) -> argparse.ArgumentParser:
    """The full parser; `extra_areas` are more modules with a register(sub) (tui.cli adds its own)."""
    import importlib

    parser = _Parser(
        prog="ledgerlink",
        description="Ledgerlink: a law-firm practice ledger bridged to QuickBooks Online. "
        "With no command, opens the terminal app.",
    )
    parser.add_argument("--db", type=Path, help="firm database file (default: LEDGERLINK_DB or the platform data dir)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in (*AREAS, *extra_areas):
        importlib.import_module(name).register(sub)
    _db_after_command(sub)
    return parser


def _db_after_command(sub: argparse._SubParsersAction) -> None:
    """`ledgerlink status --db x.db` as well as `ledgerlink --db x.db status`: every sub-command takes --db too
    (SUPPRESS: when it is not given there, the value before the command stays)."""
    for parser in set(sub.choices.values()):
        if not any("--db" in a.option_strings for a in parser._actions):
            parser.add_argument("--db", type=Path, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                _db_after_command(action)


def settings_from_args(args: argparse.Namespace) -> Settings:
    overrides = {}
    if getattr(args, "db", None):
        overrides["db"] = args.db
    from pydantic import ValidationError as BadSettings

    try:
        return Settings(**overrides)
    except BadSettings as exc:
        problems = [f"LEDGERLINK_{'__'.join(str(p) for p in e['loc']).upper()} ({'.'.join(str(p) for p in e['loc'])}):"
                    f" {e['msg']}" for e in exc.errors()]
        raise ConfigError("Bad setting: " + "; ".join(problems)) from None


def require_firm_file(settings: Settings) -> None:
    """A path that does not exist is refused (a typo in --db must not create an empty database); only `init` and
    `demo` create the file."""
    path = Path(settings.db).expanduser()
    if not path.exists():
        raise ConfigError(f"There is no firm database at {path}: check --db (or LEDGERLINK_DB), or create a firm "
                          "there with `ledgerlink init --country US` (or CA, UK, AU, NZ).")


def open_existing_firm(settings: Settings, *, readonly: bool = False) -> "Firm":
    """The firm of `settings.db` for a command that needs one (see `require_firm_file`); `readonly` writes
    nothing, not even a schema upgrade."""
    from core.services.context import open_firm

    require_firm_file(settings)
    return open_firm(settings, readonly=readonly)


@contextlib.contextmanager
def existing_firm(settings: Settings, *, readonly: bool = False) -> Iterator["Firm"]:
    """`open_existing_firm` for a `with` block, closed at its end."""
    firm = open_existing_firm(settings, readonly=readonly)
    try:
        yield firm
    finally:
        firm.close()


def _problems(exc: LedgerlinkError) -> list[str]:
    problems = list(getattr(exc, "problems", None) or [])
    return [] if problems == [str(exc)] else problems


def _report_error(args: argparse.Namespace, exc: LedgerlinkError) -> None:
    problems = _problems(exc)
    if getattr(args, "json", False):
        print(json.dumps({"ok": False, "error": str(exc), "problems": problems}, indent=2))
    print(neutralise(f"error: {exc}"), file=sys.stderr)
    for problem in problems[1:] if problems and str(exc).endswith(problems[0]) else problems:
        print(neutralise(f"  - {problem}"), file=sys.stderr)


@contextlib.contextmanager
def _neutral_stdout() -> Iterator[None]:
    """Names on stdout (tables, messages) cannot move the cursor, clear the screen or reverse a line."""
    real = sys.stdout
    sys.stdout = NeutralStream(real)
    try:
        yield
    finally:
        sys.stdout = real


def main(argv: list[str] | None = None, extra_areas: tuple[str, ...] = ()) -> int:
    parser = build_parser(extra_areas)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        settings = settings_from_args(args)
        from core.logs import setup_logging

        setup_logging(settings.log_file)
        with _neutral_stdout():
            return int(args.func(args, settings) or 0)
    except LedgerlinkError as exc:
        _report_error(args, exc)
        return 1
    except sqlite3.DatabaseError as exc:
        log.exception("database error")
        hint = ": check that --db (or LEDGERLINK_DB) names a Ledgerlink firm database" \
            if "not a database" in str(exc) else ""
        _report_error(args, ConfigError(f"The database {settings.db} cannot be used ({exc}){hint}"))
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # the reader went away (`ledgerlink keys | head`): stop quietly, as other command-line tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
