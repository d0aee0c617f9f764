"""Setup › Connect to QuickBooks: authorise by URL (or QR code), paste the redirect URL back, pull the
reference data with progress, check the QBO user's permissions; disconnect (and forget the links)."""

from __future__ import annotations

import datetime as dt

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, LoadingIndicator, Static

from core.errors import LedgerlinkError
from core.services import qbo
from tui.modals.confirm import ConfirmModal
from tui.modals.text import TextModal
from tui.screens.step import StepScreen
from tui.widgets.text_input import TextInput
from tui.workers import with_own_firm

WHO = ("Connecting takes two people, or one who is both: a Ledgerlink admin and a QBO admin. The QBO user's "
       "permissions become the integration's, so sign in to QuickBooks as a company admin.")


def moment(iso: str | None) -> str:
    """`2026-11-29T05:06:42+00:00` as `2026-11-29 05:06 UTC` (in UTC, as the firm's other users may be elsewhere)."""
    try:
        when = dt.datetime.fromisoformat(str(iso).replace("Z", "+00:00"))
    except ValueError:
        return str(iso)
    if when.tzinfo is not None:
        when = when.astimezone(dt.timezone.utc)
    return when.strftime("%Y-%m-%d %H:%M UTC")


def _day(iso: str | None, unknown: str = "unknown") -> str:
    return iso[:10] if iso else unknown


def describe(info) -> str:
    """Company, realm, environment, token and permission probe, one fact a line."""
    if info is None:
        return "Not connected to QuickBooks Online."
    lines = [
        f"Company: {info.company_name or '(unnamed)'}   Realm: {info.realm_id}   Environment: {info.environment}",
        f"Connected by {info.connected_by} on {moment(info.connected_at)}; token {info.token_status}.",
        f"Authorization renews on use until {_day(info.refresh_token_expires_at)}; "
        f"five-year limit {_day(info.refresh_token_hard_expires_at, 'not known yet')}.",
    ]
    if info.expiry is not None:
        lines.append(info.expiry.message())
    if info.probe is not None:
        lines.append(f"Permissions: {info.probe.message}")
    return "\n".join(lines)


class ConnectScreen(StepScreen):
    """`c` starts a connection, the redirect URL is pasted in the field; every QBO call runs in a worker."""

    CSS_PATH = "connect.tcss"
    AUTO_FOCUS = ""
    STEP_IDS = ("qbo_connected", "qbo_zero_tax")
    PLACE = "Connect"
    INTRO = WHO
    BINDINGS = [
        Binding("c", "connect", "Connect", id="connect.start", tooltip="Show the authorisation URL and QR code"),
        Binding("k", "show_qr", "QR", id="connect.qr", tooltip="Show the authorisation URL as a QR code"),
        Binding("y", "copy_url", "Copy", id="connect.copy",
                tooltip="Copy the authorisation URL to the clipboard (OSC 52: works over SSH)"),
        Binding("u", "pull", "Pull", id="connect.pull", tooltip="Pull QBO's reference data again"),
        Binding("p", "probe", "Access", id="connect.probe", tooltip="Probe what the QBO user may read"),
        Binding("d", "disconnect(False)", "Disconnect", id="connect.disconnect", tooltip="Revoke the connection"),
        Binding("D", "disconnect(True)", "Disconnect+forget", id="connect.forget", show=False,
                tooltip="Disconnect and forget every link to QBO records"),
    ]

    pending = None
    summary = ""

    def compose_step(self) -> ComposeResult:
        yield Static("", id="connection", markup=False)
        with Vertical(id="authorise") as box:
            box.display = False
            yield Static("1. Open in a browser, sign in as a QBO admin (k: QR code, y: copy):")
            yield Static("", id="auth-url", markup=False)
            yield Static("2. Paste the address the browser lands on, then Enter (Esc leaves the field):")
            yield TextInput(placeholder="https://…/callback?code=…&state=…&realmId=…", id="redirect", compact=True)
            yield Static("", id="paste-hint", markup=False)
        yield LoadingIndicator(id="busy")
        yield Static("", id="progress", markup=False)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#busy").display = False

    def refresh_data(self) -> None:
        self.query_one("#connection", Static).update(describe(qbo.connection(self.firm)))

    def set_busy(self, text: str | None) -> None:
        self.query_one("#busy").display = text is not None
        self.query_one("#progress", Static).update(text or "")

    def show_error(self, exc: Exception) -> None:
        self.set_busy(None)
        self.query_one("#progress", Static).update(Text(str(exc), style="bold"))
        self.notify(str(exc), title="QuickBooks", severity="error", timeout=10, markup=False)

    # -- connecting ---------------------------------------------------------------------------
    def action_connect(self) -> None:
        self.set_busy("Preparing the authorisation address…")
        self.begin()

    @work(thread=True, exclusive=True, group="qbo")
    def begin(self) -> None:
        pending = with_own_firm(self.app, qbo.begin_connect, self.show_error)
        if pending is not None:
            self.app.call_from_thread(self.show_pending, pending, qbo.approves_locally(self.firm))

    def show_pending(self, pending, local: bool = False) -> None:
        self.pending = pending
        self.set_busy(None)
        self.query_one("#auth-url", Static).update(pending.url)
        hints = []
        if local:
            hints.append("Built-in sandbox: Enter on the empty field approves it here.")
        if pending.loopback:
            hints.append("A browser on this machine comes back here by itself.")
            self.listen(pending)
        self.query_one("#paste-hint", Static).update("\n".join(hints))
        self.query_one("#authorise").display = True
        self.query_one("#redirect", Input).focus()

    @work(exclusive=True, group="callback")
    async def listen(self, pending) -> None:
        """Wait for the browser's redirect on the loopback address (the paste field works meanwhile)."""
        try:
            redirect = await qbo.wait_for_callback(pending.redirect_uri)
        except LedgerlinkError as exc:
            hint = self.query_one("#paste-hint", Static)
            hint.update(f"{hint.content}\n{exc}".strip())
            return
        if self.pending is pending:
            self.set_busy("Exchanging the code for tokens…")
            self.complete(redirect)

    def action_copy_url(self) -> None:
        if self.pending is None:
            self.notify("Press c first to start connecting.", severity="warning")
            return
        self.app.copy_to_clipboard(self.pending.url)
        self.notify("Authorisation URL copied (if your terminal allows OSC 52 clipboard access).")

    def action_back(self) -> None:
        """Esc in the paste field leaves the field, so the screen's keys work again; else back."""
        if isinstance(self.focused, Input):
            self.set_focus(None)
            return
        super().action_back()

    def action_show_qr(self) -> None:
        if self.pending is None:
            self.notify("Press c first to start connecting.", severity="warning")
            return
        rows = self.pending.qr_text.rstrip("\n").count("\n") + 1
        note = ""
        if rows + 3 > self.app.size.height:  # the title and the box's borders
            note = (f"This QR code needs {rows + 3} rows; the terminal has {self.app.size.height}. Make the window "
                    "taller (or the font smaller) to scan it, or press y to copy the URL instead.")
        self.app.push_screen(TextModal("Scan to open the authorisation page", self.pending.qr_text, note=note))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "redirect" or self.pending is None:
            return
        if event.value.strip():
            self.set_busy("Exchanging the code for tokens…")
            self.complete(event.value.strip())
        elif qbo.approves_locally(self.firm):
            self.set_busy("Approving in the built-in sandbox…")
            self.approve_here(self.pending)
        else:
            self.notify("Paste the address the browser was sent to first.", severity="warning")

    @work(thread=True, exclusive=True, group="qbo")
    def approve_here(self, pending) -> None:
        def approve(firm) -> None:
            redirect = qbo.approve_locally(firm, pending)
            qbo.complete_connect(firm, redirect)
            self.app.call_from_thread(self.connected)
            self._pull(firm)
            self._probe(firm)

        with_own_firm(self.app, approve, self.show_error)

    @work(thread=True, exclusive=True, group="qbo")
    def complete(self, redirect: str) -> None:
        def steps(firm) -> None:
            qbo.complete_connect(firm, redirect)
            self.app.call_from_thread(self.connected)
            self._pull(firm)
            self._probe(firm)

        with_own_firm(self.app, steps, self.show_error)

    def connected(self) -> None:
        self.workers.cancel_group(self, "callback")
        self.query_one("#authorise").display = False
        self.query_one("#redirect", Input).value = ""
        self.pending = None
        self.refresh_step()
        self.set_busy("Connected. Pulling reference data from QBO…")

    # -- reference data and permissions --------------------------------------------------------
    def _pull(self, firm) -> None:
        diff = qbo.pull_reference(firm, progress=lambda text: self.app.call_from_thread(self.set_busy, text))
        self.app.call_from_thread(self.pulled, f"Reference data pulled from {diff.company_name}: {diff.counts_text()}.")

    def _probe(self, firm) -> None:
        result = qbo.probe(firm)
        self.app.call_from_thread(self.probed, result)

    def pulled(self, summary: str) -> None:
        self.summary = summary
        self.refresh_step()
        self.set_busy(None)
        self.query_one("#progress", Static).update(summary)

    def probed(self, result) -> None:
        self.refresh_step()
        self.query_one("#progress", Static).update(f"{self.summary}\nPermissions: {result.message}".strip())
        if not result.ok:
            self.notify(result.message, title="Permissions", severity="warning", timeout=10, markup=False)

    def action_pull(self) -> None:
        if qbo.connection(self.firm) is None:
            self.notify("Connect first (c).", severity="warning")
            return
        self.set_busy("Pulling reference data from QBO…")
        self.pull()

    @work(thread=True, exclusive=True, group="qbo")
    def pull(self) -> None:
        with_own_firm(self.app, self._pull, self.show_error)

    def action_probe(self) -> None:
        if qbo.connection(self.firm) is None:
            self.notify("Connect first (c).", severity="warning")
            return
        self.set_busy("Checking what the QBO user may read…")
        self.probe()

    @work(thread=True, exclusive=True, group="qbo")
    def probe(self) -> None:
        result = with_own_firm(self.app, qbo.probe, self.show_error)
        if result is not None:
            self.app.call_from_thread(self.set_busy, None)
            self.app.call_from_thread(self.probed, result)

    # -- disconnecting ------------------------------------------------------------------------
    def action_disconnect(self, purge: bool) -> None:
        if qbo.connection(self.firm) is None:
            self.notify("Not connected.", severity="warning")
            return
        question = ("Disconnect from QuickBooks and FORGET every link to QBO records? The next connection "
                    "will push every document again." if purge else
                    "Disconnect from QuickBooks? The links to QBO records are kept for a reconnection.")

        def answered(yes: bool | None) -> None:
            if yes:
                self.set_busy("Disconnecting…")
                self.disconnect(purge)

        self.app.push_screen(ConfirmModal(question, "Disconnect"), answered)

    @work(thread=True, exclusive=True, group="qbo")
    def disconnect(self, purge: bool) -> None:
        result = with_own_firm(self.app, lambda firm: qbo.disconnect(firm, purge), self.show_error)
        if result is not None:
            self.app.call_from_thread(self.disconnected, result.message)

    def disconnected(self, message: str) -> None:
        self.set_busy(None)
        self.query_one("#progress", Static).update(message)
        self.refresh_step()
