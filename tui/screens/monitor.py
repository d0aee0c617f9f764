"""The sync monitor: queue counts, progress and throughput of a running sync, the limiter's budget,
parked documents with their reason and detail, retry, jump to the fix, and the dry-run payloads."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Label, ProgressBar, Sparkline, Static

from core.errors import LedgerlinkError
from core.services import sync as sync_service
from core.services import writeoff
from core.text import counted
from tui.modals.confirm import ConfirmModal
from tui.modals.text import TextModal
from tui.screens.base import LedgerScreen
from tui.workers import with_own_firm

def counts_text(counts) -> str:
    return (f"Queued {counts.queued}   Sending {counts.sending}   Done {counts.done}   "
            f"Parked {counts.parked}")


def limiter_text(stats, settings) -> str:
    if stats is None:
        return f"Limiter: up to {settings.requests_per_minute} requests a minute, {settings.max_concurrent} at once"
    return (f"Requests this minute {stats.requests_this_minute}/{settings.requests_per_minute}   "
            f"In flight {stats.in_flight}/{settings.max_concurrent}   "
            f"Batches {stats.batches_this_minute}/{settings.batches_per_minute}")


def metered_text(reads) -> str:
    """This month's metered QBO reads against the budget (core.qbo.metering.MeteredReads), or "" unconnected."""
    if reads is None:
        return ""
    text = f"Metered reads this month {reads.count:,}/{reads.budget:,}"
    return text + f" ({reads.share}%): QuickBooks blocks reads past its allowance" if reads.warning else text


WAIT_NAMES = {"watch": "the next run", "close_date": "QuickBooks' closing date"}


def waits_text(waits: list[dict]) -> str:
    """The soonest of the sync's waits (core.qbo.backoff) in words: what is tried again, and when."""
    if not waits:
        return ""
    first = waits[0]
    name = first["name"]
    what = WAIT_NAMES.get(name) or (f"client {name.split(':', 1)[1]}'s customer" if name.startswith("customer:")
                                    else name)
    seconds = first["wait_seconds"]
    wait = f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"
    more = f" (+{len(waits) - 1} more)" if len(waits) > 1 else ""
    return f"Next try: {what} at {first['next_try_at'][11:19]} UTC, after a {wait} wait (try {first['attempt']}){more}"


def detail_text(detail) -> str:
    """What support needs to replay a failure: QBO's fault, tid, request and response (secrets removed in core)."""
    doc = detail.doc
    lines = [f"{doc.label} (version {doc.version}), parked {doc.parked_at}", f"Reason: {doc.reason}"]
    if detail.fault_code or detail.fault_message:
        lines.append(f"QBO fault {detail.fault_code or ''}: {detail.fault_message or ''}".strip())
    if detail.intuit_tid:
        lines.append(f"intuit_tid: {detail.intuit_tid}")
    for title, body in (("Request", detail.request), ("Response", detail.response)):
        if body:
            lines += ["", f"{title}:", body]
    if len(detail.records) > 1:
        lines += ["", f"{len(detail.records)} attempts recorded."]
    return "\n".join(lines)


class ParkedTable(DataTable):
    """Parked documents; Enter shows the highlighted one's detail (shown in the footer)."""

    BINDINGS = [Binding("enter", "select_cursor", "Detail", id="monitor.detail",
                        tooltip="QBO fault, request and response")]


class SyncMonitorScreen(LedgerScreen):
    """The app runs the sync (so it goes on while you work elsewhere); this screen shows it."""

    SHOWS_SYNC = True
    CSS_PATH = "monitor.tcss"
    writeoff_waits = False
    """The highlighted parked document is a write-off waiting for its QBO product/service (c shows)."""
    BINDINGS = [
        Binding("y", "sync", "Sync now", id="monitor.sync", tooltip="Push what is queued, in the background"),
        Binding("f", "fix", "Go to fix", id="monitor.fix", tooltip="Open the place that fixes this document"),
        Binding("c", "create_fix", "Fix write-off", id="monitor.writeoff",
                tooltip="Create the QBO product/service a parked write-off waits for"),
        Binding("r", "retry", "Retry", id="monitor.retry", tooltip="Queue the highlighted parked document again"),
        Binding("R", "retry_all", "Retry all", id="monitor.retry_all", tooltip="Queue every parked document again"),
        Binding("v", "dry_run", "Dry run", id="monitor.dry_run", tooltip="The payloads the next sync would send"),
        Binding("h", "history", "History", id="monitor.history",
                tooltip="What was pushed when, by whom, with QBO's id; each park reason's history"),
        Binding("o", "reconcile", "Reconcile", id="monitor.reconcile",
                tooltip="Compare the ledger with QBO: documents, receivable per client, income per item"),
    ]

    def compose_body(self) -> ComposeResult:
        yield Label("Sync monitor", classes="step-title")
        yield Static("", id="counts")
        with Horizontal(id="run-row"):
            yield ProgressBar(total=1, id="sync-progress", show_eta=False)
            yield Sparkline([], id="throughput")
        yield Static("", id="run-state", markup=False)
        yield Static("", id="limiter")
        yield Static("", id="metered", markup=False)
        yield Static("", id="auto-sync", markup=False)
        yield Static("", id="waits", markup=False)
        yield ParkedTable(id="parked", cursor_type="row")
        yield Static("", id="parked-reason", markup=False)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#parked", DataTable).add_columns("Parked document", "Reason")
        self.watch(self.app, "sync_event", self.show_event, init=False)
        self.refresh_queue()
        if not self.app.still:
            self.set_interval(1.0, self.show_auto_sync)
        self.query_one("#parked", DataTable).focus()

    def on_screen_resume(self) -> None:
        self.refresh_queue()

    def refresh_queue(self) -> None:
        counts = sync_service.queue_counts(self.firm)
        self.query_one("#counts", Static).update(counts_text(counts))
        from core.services.qbo import metered_reads_of  # core.qbo stays out of the TUI's start-up

        text = metered_text(metered_reads_of(self.firm))
        metered = self.query_one("#metered", Static)
        metered.update(text)
        metered.display = bool(text)
        text = "" if self.app.still else waits_text(sync_service.waits(self.firm))  # snapshots show no clock
        waits = self.query_one("#waits", Static)
        waits.update(text)
        waits.display = bool(text)
        self.refresh_parked()
        self.show_auto_sync()
        # idle, the bar shows no percentage: "0%" or "100%" read as a sync that stalled or just ran
        self.query_one("#sync-progress", ProgressBar).query_one("#percentage").display = self.app.sync_running
        if not self.app.sync_running:
            self.query_one("#limiter", Static).update(limiter_text(None, self.app.settings.sync))
            summary = self.app.sync_summary
            self.query_one("#run-state", Static).update(summary or "No sync running. Press y to sync now.")
        self.show_reason()

    def show_auto_sync(self) -> None:
        self.query_one("#auto-sync", Static).update(self.app.auto_sync_text())

    def refresh_parked(self) -> None:
        self.parked_docs = sync_service.parked(self.firm)
        table = self.query_one("#parked", DataTable)
        table.clear()
        for doc in self.parked_docs:
            table.add_row(doc.label, doc.reason, key=f"{doc.doc_type}:{doc.doc_id}")
        self.show_reason()

    def show_event(self, event) -> None:
        if event is None:
            self.refresh_queue()
            return
        self.query_one("#counts", Static).update(counts_text(event.counts))
        self.query_one("#sync-progress", ProgressBar).query_one("#percentage").display = True
        self.show_auto_sync()
        if event.counts.parked != len(self.parked_docs):  # the list follows the count, never shows stale rows
            self.refresh_parked()
        bar = self.query_one("#sync-progress", ProgressBar)
        bar.update(total=max(event.total, 1), progress=event.sent)
        # From zero: Sparkline scales between the smallest and largest value, and draws one value as a full bar.
        self.query_one("#throughput", Sparkline).data = [0.0, *self.app.sync_rates]
        current = f" — {event.current}" if event.current else ""
        self.query_one("#run-state", Static).update(
            f"{event.phase}: {event.sent} of {event.total} sent, {event.docs_per_minute:.0f}/min{current}"
            + (f"\n{event.message}" if event.message else ""))
        self.query_one("#limiter", Static).update(limiter_text(event.limiter, self.app.settings.sync))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_reason()

    def show_reason(self) -> None:
        doc = self.highlighted()
        self.query_one("#parked-reason", Static).update(doc.reason if doc else "Nothing is parked.")
        waits = doc is not None and writeoff.writeoff_fix_for(self.firm, doc.doc_type, doc.doc_id) is not None
        if waits != self.writeoff_waits:
            self.writeoff_waits = waits
            self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.writeoff_waits if action == "create_fix" else True

    def highlighted(self):
        table = self.query_one("#parked", DataTable)
        if not self.parked_docs or not table.row_count:
            return None
        return self.parked_docs[min(table.cursor_row, len(self.parked_docs) - 1)]

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_detail()

    # -- actions ------------------------------------------------------------------------------
    def action_sync(self) -> None:
        self.app.start_sync()

    def action_detail(self) -> None:
        doc = self.highlighted()
        if doc is None:
            return
        detail = sync_service.parked_detail(self.firm, doc.doc_type, doc.doc_id)
        self.app.push_screen(TextModal(f"Parked: {doc.label}", detail_text(detail), wide=True))

    def action_fix(self) -> None:
        doc = self.highlighted()
        if doc is None:
            return
        from core.services import qbo  # core.qbo stays out of the TUI's start-up

        unmapped = qbo.doc_unmapped(self.firm, doc.doc_type, doc.doc_id)
        if doc.code.startswith("customer_"):  # which QBO customer the client is: decided on the customers screen
            from core.services.customers import client_of_document

            client = doc.fields.get("client_id") or client_of_document(self.firm, doc.doc_type, doc.doc_id)
            self.app.action_open("customers")
            if client is not None:
                self.app.screen.show_client(int(client))
        elif unmapped:  # the first account or tax rate of the document that is not mapped, found in the ledger
            self.app.action_open("mapping")
            self.app.screen.focus_row(*unmapped[0])
        elif doc.fix is not None and doc.fix.screen == "mapping" and doc.fix.tab:
            self.app.action_open("mapping")
            self.app.screen.show_tab(doc.fix.tab)
        elif doc.doc_type == "invoice" and "billing" in self.app.MODES:
            self.app.action_open("billing")
            self.app.screen.edit_invoice(doc.doc_id)
        else:
            self.notify(doc.reason, title="To fix", severity="information", timeout=10, markup=False)

    def action_create_fix(self) -> None:
        doc = self.highlighted()
        if doc is None:
            self.notify("Nothing is parked.")
            return
        fix = writeoff.writeoff_fix_for(self.firm, doc.doc_type, doc.doc_id)
        if fix is None:
            self.notify(f"{doc.label} is not waiting for a write-off product/service: f goes to its fix.",
                        severity="warning", markup=False)
            return
        if not fix.can_create:
            self.notify(fix.next_step, title="To fix", severity="warning", timeout=10, markup=False)
            if fix.gl_status != "mapped":
                self.app.action_open("mapping")
                self.app.screen.show_tab("gl")
            return
        question = (f"Create the QuickBooks product/service \"{writeoff.DEFAULT_ITEM_NAME}\" posting to "
                    f"{fix.qbo_account_name}, for write-offs to {fix.account_label}? "
                    + ("The parked write-off is" if fix.parked == 1 else f"The {fix.parked} parked write-offs are")
                    + " then sent with the next sync.")
        self.app.push_screen(ConfirmModal(question, "Create"),
                             lambda yes: self.create_item(fix.account_id) if yes else None)

    @work(thread=True, exclusive=True, group="qbo")
    def create_item(self, account_id: int) -> None:
        made = with_own_firm(self.app, lambda firm: writeoff.create_writeoff_item(firm, account_id),
                             self.app.show_error)
        if made is not None:
            self.app.call_from_thread(self.item_made, made)

    def item_made(self, made) -> None:
        self.notify(f"{made.message} Press y to sync now.", title="Write-offs", timeout=10, markup=False)
        self.refresh_queue()

    def action_retry(self) -> None:
        doc = self.highlighted()
        try:
            queued = doc is not None and sync_service.retry(self.firm, doc.doc_type, doc.doc_id)
        except LedgerlinkError as exc:  # e.g. a user with no role
            self.notify(str(exc), severity="error", markup=False)
            return
        if doc is not None and queued:
            self.notify(f"{doc.label} is queued again.")
            self.refresh_queue()

    def action_retry_all(self) -> None:
        try:
            count = sync_service.retry_all(self.firm)
        except LedgerlinkError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.notify(f"{counted(count, 'document')} queued again.")
        self.refresh_queue()

    def action_history(self) -> None:
        from tui.screens.history import SyncHistoryScreen

        self.app.push_screen(SyncHistoryScreen())

    def action_reconcile(self) -> None:
        from tui.screens.reconcile import ReconcileScreen

        self.app.push_screen(ReconcileScreen())

    def action_dry_run(self) -> None:
        self.notify("Building the payloads…")
        self.dry_run()

    @work(thread=True, exclusive=True, group="dry-run")
    def dry_run(self) -> None:
        import asyncio

        previews = with_own_firm(self.app, lambda firm: asyncio.run(sync_service.dry_run(firm, limit=50)),
                                 self.app.show_error)
        if previews is not None:
            self.app.call_from_thread(self.show_dry_run, previews)

    def show_dry_run(self, previews) -> None:
        self.app.clear_notifications()  # the "Building..." toast would sit over the payloads
        if not previews:
            self.notify("Nothing is waiting to be sent.")
            return
        parts = []
        for preview in previews:
            parts.append(f"{preview.label}: {preview.operation}")
            if preview.problem:
                parts.append(f"  would be parked: {preview.problem}")
            else:
                parts.append(preview.body_text())
        self.app.push_screen(TextModal("Dry run: what the next sync would send", "\n".join(parts), wide=True))
