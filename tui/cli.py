"""The `ledgerlink` console script: sub-commands run headless from core.cli; no sub-command opens the TUI.

`ledgerlink` and `ledgerlink --db PATH` open the TUI without importing core.cli (whose sub-commands pull in
the QBO client, OAuth and the sandbox): the settings are read in the app's opening worker, after the first
paint. Anything else (a sub-command, -h, an option the pre-parse does not know) goes to the full parser.
"""

from __future__ import annotations

import sys


def tui_database(argv: list[str]) -> tuple[bool, str | None]:
    """(True, the --db value or None) when argv only opens the TUI; (False, None) when the full parser must see it."""
    db = None
    rest = list(argv)
    while rest:
        arg = rest.pop(0)
        if arg == "--db" and rest and rest[0] and not rest[0].startswith("-"):
            db = rest.pop(0)
        elif arg.startswith("--db=") and len(arg) > len("--db="):
            db = arg[len("--db="):]
        else:
            return False, None
    return True, db


def settings_loader(db: str | None):
    """A function that reads the settings (LEDGERLINK_*, .env, config.toml) with --db on top, when called."""

    def load():
        from core.settings import Settings

        return Settings(db=db) if db else Settings()

    return load


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    only_tui, db = tui_database(argv)
    if not only_tui:
        from core import cli as core_cli

        args = core_cli.build_parser().parse_args(argv)  # -h prints the full help; a bad option is an error
        if args.command is not None:
            return core_cli.main(argv)
        db = str(args.db) if args.db else None
    from tui.app import run

    return run(settings_loader(db))


if __name__ == "__main__":
    sys.exit(main())
