"""The Ledgerlink Textual app: one factory (create_app) used by the CLI and the tests."""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib
import logging
from collections import deque
from collections.abc import Callable
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
)


STILL_TODAY = dt.date(2026, 11, 16)

class LedgerlinkApp(App[int]):
    """Setup checklist, mapper, sync monitor, billing and reports for one firm."""

    CSS_PATH = "app.tcss"
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
        self.sync_summary = ""
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

    def auto_sync_tick(self) -> bool:
        """While the app is open, push what is queued in the background (when sync is on); True if started."""
        from core.services import qbo
        from core.services import sync as sync_service

        if self.sync_running or qbo.connection(self.firm) is None or not qbo.sync_settings(self.firm).sales_invoices:
            return False
        if sync_service.queue_counts(self.firm).queued == 0:
            return False
        self.start_sync(quiet=True)
        return True

    def on_unmount(self) -> None:
        if self._owns_firm and self._firm is not None:
            self._firm.close()

    def refresh_header(self) -> None:
        """Re-read the firm and the QBO connection for the header."""
        from core.services import ledger, qbo

        name = ledger.get_firm_info(self.firm).name if ledger.firm_exists(self.firm) else "New firm (set-up needed)"
        self.header_info = header_info(name, self.settings.qbo.effective_environment(), qbo.connection(self.firm))

    def open_step(self, step_id: str) -> None:
        """Open the screen that fixes checklist step `step_id` (on the setup stack)."""
        from tui.screens import steps

        target = steps.screen_for(step_id)
        if isinstance(target, str):
            self.action_open(target)
            if step_id in steps.STEP_TABS:
                self.screen.show_tab(steps.STEP_TABS[step_id])
        else:
            if self.current_mode != "setup":
                self.switch_mode("setup")
            self.push_screen(target())

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
            return asyncio.run(sync_service.run_sync(firm, once=True, progress=progress, owner="Ledgerlink TUI"))

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
