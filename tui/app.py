"""The Ledgerlink Textual app: one factory (create_app) used by the CLI and the tests."""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib
import logging
import os
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.reactive import reactive

from tui.commands import LedgerlinkCommands
from tui.messages import SyncFinished
from tui.screens.opening import OpeningScreen
from tui.widgets.header import HeaderInfo, header_info

if TYPE_CHECKING:
    from core.settings import Settings

log = logging.getLogger(__name__)

# The screens, and core.services behind them, are imported when first needed (a worker imports them
# while the opening screen is painted): start-up to the first paint stays close to a bare Textual app.
SCREENS_BY_MODE = {
    "setup": ("tui.screens.checklist", "ChecklistScreen"),
    "mapping": ("tui.screens.mapper", "MapperScreen"),
    "sync": ("tui.screens.monitor", "SyncMonitorScreen"),
    "billing": ("tui.screens.billing", "BillingScreen"),
    "reports": ("tui.screens.reports", "ReportsScreen"),
    "trust": ("tui.screens.trust", "TrustScreen"),
    "accounts": ("tui.screens.accounts", "ChartScreen"),
    "customers": ("tui.screens.customers", "CustomersScreen"),
}


def _mode_factory(mode: str):
    def make():
        module, name = SCREENS_BY_MODE[mode]
        return getattr(importlib.import_module(module), name)()

    return make


def preload() -> None:
    """Import every screen and the services they use (called from the opening worker)."""
    for module, _ in SCREENS_BY_MODE.values():
        importlib.import_module(module)

# Screens reachable from anywhere: mode name, title, palette help, key.
NAVIGATION = (
    ("setup", "Setup checklist", "Every set-up step with its state", "f2"),
    ("mapping", "Mapping", "QBO maps and the synchronisation switch", "f3"),
    ("sync", "Sync monitor", "Queue, running sync, parked documents", "f4"),
    ("billing", "Billing", "Invoices, payments and credit notes", "f5"),
    ("reports", "Reports", "Trial balance, aging, trust ledger, reconcile", "f6"),
)
# Reachable by key, help and palette, not listed in the footer (full at 80 columns).
MORE_NAVIGATION = (
    ("trust", "Trust", "Client money: ledgers, statements, three-way reconciliation", "f7"),
    ("accounts", "Accounts", "Chart of accounts and tax rates after set-up; their QBO maps", "f8"),
    ("customers", "Customers", "Which QuickBooks customer each client is: proposals to decide", "f9"),
)


STILL_TODAY = dt.date(2026, 11, 16)
# Every screen's and modal's stylesheet, read and parsed once at start-up: a screen that brings its own CSS_PATH
# makes Textual re-parse every stylesheet of the app the first time it opens. Their rules name their screen.
ALL_CSS = [Path(__file__).with_name("app.tcss"),
           *sorted(Path(__file__).parent.glob("screens/*.tcss")), *sorted(Path(__file__).parent.glob("modals/*.tcss"))]


class LedgerlinkApp(App[int]):
    """Setup checklist, mapper, sync monitor, billing and reports for one firm."""

    CSS_PATH = ALL_CSS
    TITLE = "Ledgerlink"
    COMMANDS = App.COMMANDS | {LedgerlinkCommands}
    MODES = {mode: _mode_factory(mode) for mode in SCREENS_BY_MODE}
    BINDINGS = [
        Binding("f1,question_mark", "help", "Help", id="app.help", tooltip="List every key binding"),
        Binding("q", "quit", "Quit", id="app.quit", tooltip="Leave Ledgerlink"),
        *(Binding(key, f"open('{mode}')", title, id=f"app.{mode}", tooltip=help_text)
          for mode, title, help_text, key in NAVIGATION),
        *(Binding(key, f"open('{mode}')", title, id=f"app.{mode}", tooltip=help_text, show=False)
          for mode, title, help_text, key in MORE_NAVIGATION),
    ]

    AUTO_SYNC_SECONDS = 60.0
    """How often the open app pushes what is queued by itself (the monitor's `y` syncs at once)."""
    WAKE_DELAY = 0.5
    """A save wakes the sync this long after the last save of a burst (so a burst goes in batches)."""
    WAKE_MAX_DELAY = 3.0
    """...but never later than this after the first save of the burst."""

    header_info: reactive[HeaderInfo] = reactive(HeaderInfo, always_update=True)
    sync_event = reactive(None, always_update=True)
    """The latest progress event of the running sync (each replaces the previous one), None when idle."""

    def __init__(self, settings: Settings | Callable[[], Settings], firm=None, *, still: bool = False,
                 log_to_file: bool = False) -> None:
        super().__init__()
        self.settings: Settings | None = None
        """None until read: the console script reads them in the opening worker, after the first paint."""
        self._load_settings = settings if callable(settings) else None
        self._log_to_file = log_to_file
        self._firm = firm
        self._owns_firm = firm is None
        self.still = still
        """Snapshot runs: no blinking cursors, no clocks, and a fixed today."""
        self.sync_running = False
        self.stop_sync: Callable[[], None] | None = None
        """Cancels the running sync's task from the event loop (set by the sync worker while it runs)."""
        self.quitting = False
        self.wake_timer = None
        self.wake_first = 0.0
        self.wake_again = False
        """A save came in while a sync ran: run again when it ends."""
        self.next_auto_sync = 0.0
        """time.monotonic() of the next minute's tick (0 before the first)."""
        self.sync_summary = ""
        self.auto_sync_after = 0.0
        """time.monotonic() before which the minute's tick does not sync (core.qbo.backoff; a save still does)."""
        self.sync_rates: deque[float] = deque(maxlen=60)
        self.opened = False
        """True once the opening worker has opened the firm and shown its first screen."""
        if self._load_settings is None:
            self._use_settings(settings)

    def get_css_variables(self) -> dict[str, str]:
        """Under NO_COLOR a list's or table's cursor row is underlined (and bold when the list has the focus):
        the themes tell it apart by a shade of grey alone. Not reverse: OptionList does not draw it."""
        variables = super().get_css_variables()
        if self.no_color:
            variables |= {"block-cursor-text-style": "bold underline", "block-cursor-blurred-text-style": "underline"}
        return variables

    @property
    def firm(self):
        """The firm (core.services.context.Firm) this app works on, opened on first use."""
        if self._firm is None:
            from core.services.context import open_firm

            self._firm = open_firm(self.settings)
        return self._firm

    def today(self) -> dt.date:
        """The date new documents default to (a fixed day in snapshot runs)."""
        return STILL_TODAY if self.still else dt.date.today()

    def palette_navigation(self) -> list[tuple[str, str, str]]:
        """(title, help, action) of every screen the palette can open."""
        return [(f"Open {title}", help_text, f"open('{mode}')")
                for mode, title, help_text, _ in NAVIGATION + MORE_NAVIGATION]

    def on_mount(self) -> None:
        database = str(self.settings.db) if self.settings else None
        environment = self.settings.qbo.effective_environment() if self.settings else "…"
        self.header_info = HeaderInfo(firm="Ledgerlink", environment=environment, health="opening…")
        self.push_screen(OpeningScreen(database))
        self.call_after_refresh(self.open_firm)  # paint the opening screen first, then load

    def _use_settings(self, settings: Settings) -> None:
        """Apply what the settings say about the app itself: theme, and the header's environment."""
        self.settings = settings
        if settings.ui.theme in self.available_themes:
            self.theme = settings.ui.theme
        if self.is_running:
            self.header_info = HeaderInfo(firm="Ledgerlink", environment=settings.qbo.effective_environment(),
                                          health="opening…")
            if isinstance(self.screen, OpeningScreen):
                self.screen.show_database(str(settings.db))

    def _settings_failed(self, exc: Exception) -> None:
        message = f"Ledgerlink could not read its settings:\n{exc}"
        if isinstance(self.screen, OpeningScreen):
            self.screen.show_problem(message)
        self.notify(message, title="Settings", severity="error", timeout=30, markup=False)

    @work(thread=True, exclusive=True, group="open")
    def open_firm(self) -> None:
        """Read the settings (if not given), import core and the screens, open the firm and run the checklist,
        off the event loop."""
        if self.settings is None:
            try:
                settings = self._load_settings()
            except Exception as exc:  # a bad config.toml or LEDGERLINK_* value: said on screen, q still quits
                self.call_from_thread(self._settings_failed, exc)
                return
            self.call_from_thread(self._use_settings, settings)
        if self._log_to_file:
            from core.logs import setup_logging

            setup_logging(self.settings.log_file)
        preload()
        self._check_keymap()
        from core.services import setup as setup_service

        try:
            finished = all(step.ok for step in setup_service.checklist(self.firm))
        except Exception as exc:  # shown, never swallowed: a broken database must not leave a spinner
            self.call_from_thread(self.show_error, exc)
            raise
        self.call_from_thread(self._opened, finished)

    def _check_keymap(self) -> None:
        """Apply the user's keymap (ui.keymap) once every screen is imported; name each entry left out."""
        if not self.settings.ui.keymap:
            return
        from tui import keymap

        keymap.import_all_screens()
        check = keymap.check_keymap(self.settings.ui.keymap, keymap.binding_ids())
        problems = check.problems + keymap.clashes(check.keymap, type(self))
        keymap.keep_footer_order()
        self.call_from_thread(self._use_keymap, check.keymap, problems)

    def _use_keymap(self, entries: dict[str, str], problems: list[str]) -> None:
        self.set_keymap(entries)
        for problem in problems:
            log.warning("%s", problem)
        if problems:
            self.notify("\n".join(problems), title="Key map", severity="warning", timeout=20, markup=False)

    def _opened(self, finished: bool) -> None:
        self.opened = True
        self.refresh_header()
        self.switch_mode("sync" if finished else "setup")
        self.set_interval(self.AUTO_SYNC_SECONDS, self.auto_sync_tick)
        self.next_auto_sync = time.monotonic() + self.AUTO_SYNC_SECONDS

    @property
    def auto_sync_on(self) -> bool:
        return self.settings is not None and self.settings.ui.auto_sync

    def auto_sync_tick(self) -> bool:
        """While the app is open, push what is queued in the background (when sync is on); True if started."""
        self.next_auto_sync = time.monotonic() + self.AUTO_SYNC_SECONDS
        if time.monotonic() < self.auto_sync_after:  # documents wait and the last run sent none: backing off
            return False
        return self.sync_if_queued()

    def sync_if_queued(self) -> bool:
        from core.services import qbo
        from core.services import sync as sync_service

        if not self.auto_sync_on or self.quitting:
            return False
        if self.sync_running:
            self.wake_again = True
            return False
        if qbo.connection(self.firm) is None or not qbo.sync_settings(self.firm).sales_invoices:
            return False
        if sync_service.queue_counts(self.firm).queued == 0:
            return False
        self.start_sync(quiet=True)
        return True

    def wake_sync(self) -> None:
        """A document was saved: sync it within seconds (debounced: a burst of saves goes as one run, in batches,
        and every request still goes through the limiter)."""
        if not self.auto_sync_on:
            return
        now = time.monotonic()
        if self.wake_timer is None:
            self.wake_first = now
        else:
            self.wake_timer.stop()
        delay = min(self.WAKE_DELAY, max(0.0, self.wake_first + self.WAKE_MAX_DELAY - now))
        self.wake_timer = self.set_timer(delay, self._woken)

    def _woken(self) -> None:
        self.wake_timer = None
        self.sync_if_queued()

    def auto_sync_text(self) -> str:
        """The automatic sync in words, for the monitor: off, running, or when it runs next."""
        if not self.auto_sync_on:
            return "Automatic sync: off (ui.auto_sync in the settings); y syncs now."
        if self.sync_running:
            return "Automatic sync: on, running now."
        from core.services import qbo

        if qbo.connection(self.firm) is None or not qbo.sync_settings(self.firm).sales_invoices:
            return "Automatic sync: on, once the Sales invoices switch is on (Mapping › Synchronisation)."
        if self.still or not self.next_auto_sync:
            return f"Automatic sync: on, seconds after each save and every {self.AUTO_SYNC_SECONDS:.0f} s."
        left = max(0, round(self.next_auto_sync - time.monotonic()))
        return f"Automatic sync: on, seconds after each save; next run in {left} s."

    def on_unmount(self) -> None:
        # a save's wake-up timer may still fire while the app closes: it must not reach the closed firm
        self.quitting = True
        if self.wake_timer is not None:
            self.wake_timer.stop()
            self.wake_timer = None
        if self._owns_firm and self._firm is not None:
            self._firm.close()

    def refresh_header(self) -> None:
        """Re-read the firm and the QBO connection for the header."""
        from core.services import ledger, qbo

        name = ledger.get_firm_info(self.firm).name if ledger.firm_exists(self.firm) else "New firm (set-up needed)"
        self.header_info = header_info(name, self.settings.qbo.effective_environment(), qbo.connection(self.firm))

    def open_step(self, step_id: str) -> None:
        """Open the place that fixes checklist step `step_id` (its fix: screen, tab, row)."""
        from core.services import setup as setup_service
        from tui.screens import steps

        step = next(s for s in setup_service.checklist(self.firm) if s.id == step_id)
        if step.fix is not None:
            steps.open_fix(self, step.fix)

    def action_open(self, mode: str) -> None:
        if not self.opened:  # the screens need the settings and the firm the opening worker reads
            self.notify("Still opening the firm database…", timeout=3)
            return
        if self.current_mode != mode:
            self.switch_mode(mode)

    def action_help(self) -> None:
        from tui.modals.help import HelpScreen, collect_bindings

        if isinstance(self.screen, HelpScreen):
            return
        title = getattr(self.screen, "HELP_TITLE", "") or type(self.screen).__name__.replace("Screen", "")
        self.push_screen(HelpScreen(collect_bindings(self.screen), title))


    # -- the background sync -------------------------------------------------------------------
    def start_sync(self, quiet: bool = False) -> None:
        """Push what is queued in a background worker; the admin keeps working meanwhile."""
        if self.sync_running:
            self.notify("A sync is already running.")
            return
        self.sync_running = True
        self.sync_automatic = quiet  # the history says "automatic" for the runs the app starts by itself
        self.sync_rates.clear()
        if not quiet and not self.screen_shows_sync():
            self.notify("Sync started.")
        self.run_sync()

    def screen_shows_sync(self) -> bool:
        """The sync monitor shows a sync's progress and result itself: a toast there would cover them."""
        return getattr(self.screen, "SHOWS_SYNC", False)

    @work(thread=True, exclusive=True, group="sync")
    def run_sync(self) -> None:
        from core.services import sync as sync_service
        from tui.workers import with_own_firm

        def progress(event) -> None:
            self.call_from_thread(self._progress, event)

        def push(firm):
            # Its own loop, so Ctrl+Q can cancel the task from the UI thread: the sync writes every request
            # down before sending it, so a cancelled run is replayed by the next one, never repeated.
            loop = asyncio.new_event_loop()
            task = loop.create_task(sync_service.run_sync(firm, once=True, progress=progress,
                                                          owner="Ledgerlink TUI",
                                                          automatic=getattr(self, "sync_automatic", False)))
            self.stop_sync = lambda: loop.call_soon_threadsafe(task.cancel)
            try:
                summary = loop.run_until_complete(task)
                if not summary.stopped:  # the minute's tick backs off while documents wait and none could go
                    self.auto_sync_after = time.monotonic() + sync_service.next_run_in(firm, summary, 0.0)
                return summary
            except asyncio.CancelledError:
                return None
            finally:
                self.stop_sync = None
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        summary = None
        try:
            summary = with_own_firm(self, push, self.show_error)
        finally:
            self.call_from_thread(self._sync_done, summary)

    def _progress(self, event) -> None:
        self.sync_rates.append(event.docs_per_minute)
        self.sync_event = event

    def _sync_done(self, summary) -> None:
        self.sync_running = False
        if self.quitting:
            self.exit()
            return
        if self.wake_again:  # saved while it ran: those go now
            self.wake_again = False
            self.call_later(self.sync_if_queued)
        if summary is not None:
            # "Last sync:": the monitor keeps it under counts that move on (a retried document is no longer parked).
            text = summary.stopped or "Last sync: " + (
                summary.message or f"{summary.pushed} pushed, {summary.parked} parked, {summary.waiting} waiting")
            self.sync_summary = text
            if not self.screen_shows_sync():
                self.notify(text, title="Sync", severity="information" if summary.ok else "warning", markup=False)
        self.sync_event = None
        self.refresh_header()
        self.screen.post_message(SyncFinished(summary))

    def screenshot_dir(self) -> Path:
        """~/Downloads when it exists, else the state dir (beside the log), else the working directory."""
        from platformdirs import user_downloads_path

        candidates = [user_downloads_path()]
        if self.settings is not None:
            candidates.append(Path(self.settings.log_file).expanduser().parent)
        for folder in candidates:
            if folder.is_dir() and os.access(folder, os.W_OK):
                return folder
        if len(candidates) > 1:
            try:
                candidates[1].mkdir(parents=True, exist_ok=True)
                return candidates[1]
            except OSError:
                pass
        return Path.cwd()

    def deliver_screenshot(self, filename: str | None = None, path: str | None = None,
                           time_format: str | None = None) -> str | None:
        """The palette's Screenshot: an SVG saved where it can be (Textual's own needs ~/Downloads), said where."""
        try:
            saved = self.save_screenshot(filename, path or str(self.screenshot_dir()), time_format)
        except OSError as exc:
            self.notify(f"The screenshot was not saved: {exc}", title="Screenshot", severity="error", markup=False)
            return None
        self.notify(f"Screenshot saved to {saved}", title="Screenshot", markup=False, timeout=10)
        return saved

    async def action_quit(self) -> None:
        """Ask first when a form holds unsaved typing; stop a running sync at once (it resumes next time)."""
        unsaved = next((s for s in reversed(self.screen_stack) if getattr(s, "unsaved_text", lambda: "")()), None)
        if unsaved is not None:
            from tui.modals.confirm import ConfirmModal

            self.push_screen(ConfirmModal(f"Quit without saving {unsaved.unsaved_text()}? What you typed is lost.",
                                          "Quit"), lambda yes: self.quit_now() if yes else None)
            return
        self.quit_now()

    def quit_now(self) -> None:
        if self.sync_running and self.stop_sync is not None:
            self.quitting = True
            self.notify("Stopping the sync... What was not sent goes with the next sync.", title="Quitting",
                        timeout=30)
            self.stop_sync()
            return
        self.exit()

    def show_error(self, exc: Exception) -> None:
        self.notify(str(exc), title="Error", severity="error", timeout=10, markup=False)


def create_app(settings: Settings, firm=None, *, still: bool = False) -> LedgerlinkApp:
    """Build the app for `settings` (and an already-open firm, in tests)."""
    return LedgerlinkApp(settings, firm, still=still)


def run(settings: Settings | Callable[[], Settings]) -> int:
    """Open the TUI on the firm database of `settings` (or of the settings `settings()` reads once the first
    screen is painted); the exit status for the console script."""
    app = LedgerlinkApp(settings, log_to_file=True)
    result = app.run()
    return result or 0
