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


def register(sub) -> None:
    """The TUI's own sub-command, beside core's (core.cli.build_parser(extra_areas=("tui.cli",)))."""
    keys = sub.add_parser("keys", help="the TUI's key bindings by id (for ui.keymap), and what is wrong in yours",
                          description="Every key binding of the TUI: its id (the name ui.keymap uses), its keys "
                                      "(yours where the keymap changes them), what it does and where. Each "
                                      "keymap entry the TUI would leave out is named; the exit status is then 1.")
    keys.set_defaults(func=keys_command)


def keys_command(args, settings) -> int:
    from tui import keymap
    from tui.app import LedgerlinkApp

    keymap.import_all_screens()
    known = keymap.binding_ids()
    check = keymap.check_keymap(settings.ui.keymap, known)
    owners = keymap.binding_owners()
    # Grouped by where they apply, so the three columns fit 80 columns.
    sections: dict[str, list[tuple[str, str, str]]] = {}
    for binding_id in sorted(known):
        binding = known[binding_id]
        keys = check.keymap.get(binding_id, binding.key)
        if keys != binding.key:
            keys += f" (default {binding.key})"
        owner = owners[binding_id]
        where = "everywhere" if issubclass(owner, LedgerlinkApp) else owner.__name__
        sections.setdefault(where, []).append(
            (binding_id, keys, binding.description or binding.tooltip or binding.action))
    header = ("ID", "KEYS", "DOES")
    widths = [max(len(row[i]) for rows in sections.values() for row in [header, *rows]) for i in range(2)]
    line = lambda row: "  " + "  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  " + row[2]  # noqa: E731
    print(line(header).rstrip())
    for where in sorted(sections, key=lambda w: (w != "everywhere", w)):
        print(f"{where}:")
        for row in sections[where]:
            print(line(row).rstrip())
    problems = check.problems + keymap.clashes(check.keymap, LedgerlinkApp)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    only_tui, db = tui_database(argv)
    if not only_tui:
        from core import cli as core_cli

        # -h prints the full help; a bad option is an error
        args = core_cli.build_parser(extra_areas=("tui.cli",)).parse_args(argv)
        if args.command is not None:
            return core_cli.main(argv, extra_areas=("tui.cli",))
        db = str(args.db) if args.db else None
    from tui.app import run

    return run(settings_loader(db))


if __name__ == "__main__":
    sys.exit(main())
