"""TUI benchmark: start-up to the first painted screen beside a bare Textual app (same run), the mapper's
mount and filter-keystroke latency with 5,000 ledger accounts x 2,000 QBO items, and peak RSS.

    .venv/bin/python bench/tui.py                  # builds a temporary firm, prints a table and JSON
    .venv/bin/python bench/tui.py --startup-only   # only the start-up comparison

Each measurement runs in its own subprocess so start-up includes imports and RSS is the mapper's own.
Targets (issue 5): start-up <= 1.5x the bare app, filter median <= 50 ms, RSS <= 250 MB.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

N_ACCOUNTS = 5000
N_ITEMS = 2000
RUNS = 9


def _settings(db: Path):
    from core.settings import Settings

    return Settings(_env_file=None, db=db, log_file=db.with_suffix(".log"))


# -- in the child processes ----------------------------------------------------------------------
def child_startup(kind: str, db: str) -> None:
    """Print seconds from process start to the first painted screen (and, for the app, to the checklist).

    `bare` is a bare Textual app; `cli` is the console script `ledgerlink --db DB` (tui.cli.main, as the
    installed `ledgerlink` runs it), only made headless at 80x24 and told when it has painted.
    """
    out = {}

    def first_paint(self) -> None:  # Textual posts Ready right after the first screen is painted
        out["seconds"] = time.perf_counter() - START

    async def auto(pilot):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        out["ready_seconds"] = time.perf_counter() - START  # the app's checklist (or bare screen) is up
        out["screen"] = type(pilot.app.screen).__name__
        pilot.app.exit()

    def headless(run):
        return lambda self, **kwargs: run(self, headless=True, size=(80, 24), auto_pilot=auto)

    if kind == "bare":
        from textual.app import App
        from textual.widgets import Footer, Header, Static

        class Bare(App):
            def compose(self):
                yield Header()
                yield Static("hello")
                yield Footer()

            on_ready = first_paint

        Bare().run(headless=True, size=(80, 24), auto_pilot=auto)
    else:
        from textual.app import App

        App.run = headless(App.run)  # the one change to the console path: no terminal
        App.on_ready = first_paint  # App defines no on_ready of its own; the app's subclass inherits this
        from tui.app import LedgerlinkApp  # imported by main() anyway; here only to time the settings

        use_settings = LedgerlinkApp._use_settings

        def settings_read(self, settings) -> None:
            use_settings(self, settings)
            out["settings_seconds"] = time.perf_counter() - START  # the header's environment is now true

        LedgerlinkApp._use_settings = settings_read
        from tui.cli import main

        main(["--db", db])
    print(json.dumps(out))


async def _latencies(pilot, keys) -> tuple[float, float]:
    """Median wall and CPU milliseconds from a key press until the app is idle and repainted."""
    wall, cpu = [], []
    for key in keys:
        w0, c0 = time.perf_counter(), time.process_time()
        await pilot.press(key)
        wall.append((time.perf_counter() - w0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def child_mapper(db: str) -> None:
    """Mount the mapper on a big firm, then type into its filter; print timings and peak RSS."""
    from textual.widgets import Input

    from tui.app import create_app
    from tui.widgets.vlist import VirtualList

    out: dict = {}

    async def auto(pilot):
        app = pilot.app
        while not app.opened:  # F3 waits for the opening worker (the firm and settings)
            await pilot.pause(0.05)
        start = time.perf_counter()
        await pilot.press("f3")
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        screen.show_tab("sales")
        await pilot.pause()
        out["mount_ms"] = (time.perf_counter() - start) * 1000
        left = screen.query_one("#sales-left", VirtualList)
        right = screen.query_one("#sales-right", VirtualList)
        out["rows"] = [len(left.rows), len(right.rows)]
        await pilot.press("slash")
        field = screen.query_one("#sales-filter", Input)
        assert field.has_focus
        keys = [*"fee 12", *["backspace"] * 6, *"item 7", *["backspace"] * 6] * 2
        out["filter_wall_median_ms"], out["filter_cpu_median_ms"] = await _latencies(pilot, keys)
        shown = []
        for text in ("fee 12", "item 7"):
            field.value = text
            await pilot.pause()
            shown.append([len(left.shown), len(right.shown)])
        out["shown_for"] = {"fee 12": shown[0], "item 7": shown[1]}
        # Baseline in the same run: the same keystrokes into a plain Input (the sync-from date field).
        screen.show_tab("sync")
        await pilot.pause()
        screen.query_one("#sync-from", Input).focus()
        await pilot.pause()
        out["plain_input_wall_median_ms"], out["plain_input_cpu_median_ms"] = await _latencies(pilot, keys)
        app.exit()

    create_app(_settings(Path(db)), still=True).run(headless=True, size=(120, 40), auto_pilot=auto)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


# -- building the firms --------------------------------------------------------------------------
def big_firm(db: Path) -> None:
    """A firm with N_ACCOUNTS income accounts and a QBO cache of N_ITEMS Products/Services."""
    from core.qbo.reference import apply_reference
    from core.services import ledger

    firm = ledger.create_firm(_settings(db), "AU", name="Bench Firm")
    try:
        for n in range(N_ACCOUNTS):
            subtype = "fee_income" if n % 3 else "expense_recovery"
            ledger.add_account(firm, code=f"6{n:05d}", name=f"Fee income {n} matter type {n % 97}",
                               type="Income", subtype=subtype)
        items = [{"Id": str(i + 1), "Name": f"Service item {i}", "Type": "Service" if i % 5 else "NonInventory",
                  "Active": True} for i in range(N_ITEMS)]
        apply_reference(firm.db, {"TaxRate": [], "TaxCode": [], "Account": [], "Item": items, "Customer": [],
                                  "CompanyInfo": {"CompanyName": "Bench Co", "Country": "AU"}, "Preferences": {}})
    finally:
        firm.close()


def run_child(*args: str, env: dict | None = None) -> dict:
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, cwd=ROOT, env=env)
    if proc.returncode:
        sys.exit(f"bench/tui.py {args[0]} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def isolated_env(tmp: Path) -> dict:
    """No developer config, .env value or LEDGERLINK_* variable, and logs in `tmp`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGERLINK_")}
    env.update(LEDGERLINK_CONFIG_DIR=str(tmp / "config"), XDG_STATE_HOME=str(tmp / "state"),
               XDG_DATA_HOME=str(tmp / "data"))
    return env


def startup(tmp: Path) -> dict:
    """Medians of RUNS interleaved start-ups of the bare app and of `ledgerlink --db` on a fresh database."""
    fresh = tmp / "fresh.db"
    env = isolated_env(tmp)
    bare, app, settings, ready = [], [], [], []
    for _ in range(RUNS):  # interleaved so both see the same machine noise
        bare.append(run_child("startup", "bare", str(fresh), env=env)["seconds"])
        got = run_child("startup", "cli", str(fresh), env=env)
        assert got["screen"] == "ChecklistScreen", got
        app.append(got["seconds"])
        settings.append(got["settings_seconds"])
        ready.append(got["ready_seconds"])
    return {
        "startup_runs": RUNS,
        "startup_bare_s": statistics.median(bare),
        "startup_app_s": statistics.median(app),
        "startup_ratio": statistics.median(app) / statistics.median(bare),
        "settings_read_s": statistics.median(settings),
        "checklist_ready_s": statistics.median(ready),
        "checklist_ready_ratio": statistics.median(ready) / statistics.median(bare),
    }


def main(startup_only: bool = False) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        result = startup(Path(tmp))
        print(f"start-up to first paint: `ledgerlink --db` {result['startup_app_s']:.3f} s, bare Textual "
              f"{result['startup_bare_s']:.3f} s -> ratio {result['startup_ratio']:.2f} (target <= 1.5)")
        print(f"settings read, header shows the environment: {result['settings_read_s']:.3f} s")
        print(f"checklist filled in: {result['checklist_ready_s']:.3f} s -> {result['checklist_ready_ratio']:.2f}x"
              " the bare app")
        if startup_only:
            print(json.dumps(result))
            return
        big = Path(tmp) / "big.db"
        t0 = time.perf_counter()
        big_firm(big)
        result["build_big_firm_s"] = time.perf_counter() - t0
        mapper = run_child("mapper", str(big))
    result.update(mapper)
    print(f"mapper with {mapper['rows'][0]} x {mapper['rows'][1]} rows: mount {mapper['mount_ms']:.0f} ms")
    result["filter_cpu_ratio"] = mapper["filter_cpu_median_ms"] / mapper["plain_input_cpu_median_ms"]
    print(f"filter keystroke median: {mapper['filter_wall_median_ms']:.1f} ms wall, {mapper['filter_cpu_median_ms']:.1f}"
          f" ms CPU; the same keys into a plain Input: {mapper['plain_input_wall_median_ms']:.1f} ms wall, "
          f"{mapper['plain_input_cpu_median_ms']:.1f} ms CPU; CPU ratio {result['filter_cpu_ratio']:.2f}"
          " (target <= 50 ms)")
    print(f"peak RSS {mapper['peak_rss_mb']:.0f} MB (target <= 250)")
    print(json.dumps(result))


START = time.perf_counter()

if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "startup":
        child_startup(sys.argv[2], sys.argv[3])
    elif len(sys.argv) > 1 and sys.argv[1] == "mapper":
        child_mapper(sys.argv[2])
    else:
        main(startup_only="--startup-only" in sys.argv)
