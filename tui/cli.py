"""The `ledgerlink` console script: sub-commands run headless from core.cli; no sub-command opens the TUI."""

from __future__ import annotations

import sys

from core import cli as core_cli


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = core_cli.build_parser()
    args, _ = parser.parse_known_args(argv)
    if args.command is None and not any(a in ("-h", "--help") for a in argv):
        from tui.app import run

        return run(core_cli.settings_from_args(args))
    return core_cli.main(argv)


if __name__ == "__main__":
    sys.exit(main())
