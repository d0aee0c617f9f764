"""Mapping (the guide's "QBO: Mapping"): the Synchronisation switch, the sales invoice account map as a
split pane, the GL account map and the sales tax map as rows, and Refresh from QBO with its diff.

Thousands of rows per pane: the panes are VirtualLists filled once per load and filtered in place.
"""

from __future__ import annotations

from dataclasses import replace

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Input, Label, Static, Switch, TabbedContent, TabPane

from core.errors import LedgerlinkError
from core.services import qbo
from core.services import setup as setup_service
from core.services import sync as sync_service
from core.services import writeoff
from core.text import counted
from tui.format import clipped, short_type
from tui.modals.confirm import ConfirmModal
from tui.modals.form import problem_text
from tui.modals.picker import PickerModal
from tui.modals.suggest import SuggestModal
from tui.modals.text import TextModal
from tui.screens.base import TabbedScreen, tab_bindings, tab_title
from tui.screens.step import STATE_WORDS
from tui.widgets.switch import SwitchRow
from tui.widgets.text_input import TextInput
from tui.widgets.vlist import Row, VirtualList
from tui.workers import with_own_firm

TAB_STEPS = {"sync": ("sync_enabled",), "sales": ("map_sales",), "gl": ("map_gl",), "tax": ("map_tax",)}
SYNC_PUSHES = ("On: every sales invoice, the payments received against it and its credit notes are pushed to "
               "QBO, with their customers. Off: they wait in the queue.")
ROLE_LABELS = {"income": "fee", "expense": "expense", "other": "other"}


def ledger_row(row) -> Row:
    """A left-pane row: a mark (✓ mapped, ! to map again), code and name, and what it is mapped to (a note
    that 80 columns cut off: the mark still shows)."""
    role = ROLE_LABELS.get(row.role, row.role)
    mark = {"mapped": "✓", "unmapped": " "}.get(row.status, "!")
    if row.status == "mapped":
        note = f"{role} → {row.qbo_name}"
    elif row.status == "unmapped":
        note = f"{role}, not mapped"
    else:
        note = f"{role} → {row.qbo_name or '?'} ({row.status}: map again)"
    return Row(str(row.ledger_id), f"{mark} {row.ledger_key} {row.ledger_name}", note=note)


def option_row(option) -> Row:
    """A QBO reference: struck through when used by another ledger item or unusable."""
    if option.used_by:
        return Row(option.qbo_id, option.name, struck=True, note=f"{option.type}, used by {option.used_by}")
    if not option.valid:
        return Row(option.qbo_id, option.name, struck=True, note=option.reason)
    return Row(option.qbo_id, option.name, note=option.type)


def row_text(row) -> str:
    """A map row's state on the mapper itself: an unmapped row is to be mapped right here."""
    return f"{row.ledger_name} is not mapped" if row.status == "unmapped" else row.message


def diff_text(diff) -> str:
    """A refresh diff in words: what is new, renamed, inactive or gone, and which maps broke."""
    lines = [f"Reference data of {diff.company_name}: {diff.counts_text()}."]
    for title, changes in (("New", diff.new), ("Renamed", diff.renamed), ("Made inactive", diff.inactive),
                           ("Gone from QBO", diff.gone)):
        if changes:
            lines.append(f"{title} ({len(changes)}):")
            for change in changes[:50]:
                old = f" (was {change.old_name})" if change.old_name else ""
                lines.append(f"  {change.entity} {change.name}{old}")
            if len(changes) > 50:
                lines.append(f"  … and {len(changes) - 50} more")
    if diff.flagged:
        lines.append("Maps to fix:")
        lines += [f"  {flag.kind}: ledger #{flag.ledger_id} → {flag.qbo_name} is {flag.problem}" for flag in diff.flagged]
    if not diff.changed and not diff.flagged:
        lines.append("Nothing changed since the last pull.")
    return "\n".join(lines)


class MapTable(DataTable):
    """The GL or tax map; Enter maps the highlighted row (the table's own Enter, hidden, only selected it)."""

    BINDINGS = [Binding("enter", "screen.map", "Map", id="mapper.map", tooltip="Map the highlighted row")]


class MapperScreen(TabbedScreen):
    """Tabs for the switch and the three maps; `u` refreshes QBO's reference data and shows what changed."""

    CSS_PATH = "mapper.tcss"
    TABS = (("sync", "Synchronisation"), ("sales", "Sales accounts"), ("gl", "GL accounts"), ("tax", "Sales tax"))
    TAB_FOCUS = {"sync": "#sync-switch", "sales": "#sales-left", "gl": "#gl-rows", "tax": "#tax-rows"}
    BINDINGS = [
        Binding("enter", "map", "Map", id="mapper.map", tooltip="Map the ledger row to the QBO row"),
        Binding("delete", "unmap", "Unmap", id="mapper.unmap", tooltip="Remove the highlighted row's mapping"),
        Binding("slash", "filter", "Filter", id="mapper.filter", tooltip="Filter both panes as you type"),
        Binding("s", "suggest", "Suggest", id="mapper.suggest", tooltip="Suggested mappings by name and type"),
        Binding("a", "add_row", "Add row", id="mapper.add", tooltip="Map another ledger item (GL and tax maps)"),
        Binding("w", "writeoff_items", "Write-off item", id="mapper.writeoff",
                tooltip="The QBO product/service write-offs need: show it, or create it"),
        Binding("f", "fix", "Go to fix", id="mapper.fix", show=False,
                tooltip="Put the cursor on the first row this tab's checklist step still needs"),
        Binding("u", "refresh_qbo", "Refresh from QBO", id="mapper.refresh", tooltip="Pull QBO's lists again"),
        Binding("ctrl+s", "save_sync", "Save", id="mapper.save", tooltip="Save the synchronisation settings"),
        *tab_bindings("mapper", TABS),
    ]

    def __init__(self, tab: str = "sales", **kwargs) -> None:
        super().__init__(**kwargs)
        self.initial_tab = tab
        self.map_rows: dict[str, dict[int, object]] = {"sales": {}, "gl": {}, "tax": {}}
        self.qbo_types: dict[str, str] = {}
        """QBO item id -> its type (Service, NonInventory), kept for the right pane's notes."""
        self.pending_focus: tuple[str, int] | None = None
        """(map kind, ledger id) the cursor goes to once the maps are loaded (the monitor's go-to-fix)."""
        self.current_text = ""
        """What #sales-current shows."""

    def compose_body(self) -> ComposeResult:
        titles = {tab: tab_title(n, title) for n, (tab, title) in enumerate(self.TABS, 1)}
        with TabbedContent(initial=self.initial_tab, id="mapper-tabs"):
            with TabPane(titles["sync"], id="sync"):
                yield SwitchRow(False, "Sales invoices", switch_id="sync-switch", classes="switch-row")
                yield Static(SYNC_PUSHES, classes="note")
                yield Label("Sync from (YYYY-MM-DD; documents dated earlier are not pushed):", classes="field-label")
                yield TextInput(placeholder="e.g. 2026-01-01, empty for everything", id="sync-from")
                yield Static("", id="need-sync", classes="need")
            with TabPane(titles["sales"], id="sales"):
                yield TextInput(placeholder="/ to filter both panes", id="sales-filter")
                with Horizontal(id="sales-panes"):
                    with Vertical():
                        yield Label("Ledger income accounts (✓ mapped)", classes="pane-title")
                        yield VirtualList(id="sales-left", empty_text="No income account matches")
                    with Vertical():
                        yield Label("QBO Products/Services", classes="pane-title")
                        yield VirtualList(id="sales-right", empty_text="No QBO item matches")
                yield Static("", id="sales-current", markup=False)
                yield Static("", id="need-sales", classes="need", markup=False)
            for kind in ("gl", "tax"):
                with TabPane(titles[kind], id=kind):
                    yield MapTable(id=f"{kind}-rows", cursor_type="row", zebra_stripes=True)
                    yield Static("", id=f"need-{kind}", classes="need", markup=False)

    def on_mount(self) -> None:
        super().on_mount()
        for kind in ("gl", "tax"):
            self.query_one(f"#{kind}-rows", DataTable).add_columns(
                "Ledger", "QBO", "Status", "Kind" if kind == "gl" else "Rate")
        self.load()
        self.query_one(self.TAB_FOCUS[self.initial_tab]).focus()

    def on_screen_resume(self) -> None:
        self.load()

    @property
    def tab(self) -> str:
        tabs = self.query(TabbedContent)
        return tabs.first().active if tabs else self.initial_tab

    # -- loading ------------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="mapper-load")
    def load(self) -> None:
        """Read every map and the QBO options off the event loop, then fill the panes."""
        def read(firm):
            data = {kind: qbo.list_map(firm, kind) for kind in ("sales", "gl", "tax")}
            steps = {s.id: s for s in setup_service.checklist(firm)}
            writeoff_items = {f.item_id for f in writeoff.writeoff_fixes(firm) if f.item_id}
            options = [o for o in qbo.list_options(firm, "sales") if o.qbo_id not in writeoff_items]
            return data, options, qbo.sync_settings(firm), steps  # the write-off item is for write-offs only

        loaded = with_own_firm(self.app, read, self.refuse)
        if loaded is not None:
            self.app.call_from_thread(self.fill, *loaded)

    def fill(self, data, options, settings, steps) -> None:
        for kind, rows in data.items():
            self.map_rows[kind] = {r.ledger_id: r for r in rows}
        self.query_one("#sales-left", VirtualList).set_rows([ledger_row(r) for r in data["sales"]])
        self.qbo_types = {o.qbo_id: o.type for o in options}
        self.query_one("#sales-right", VirtualList).set_rows([option_row(o) for o in options])
        for kind in ("gl", "tax"):
            self.fill_table(kind)
        with self.prevent(Switch.Changed):
            self.query_one("#sync-switch", Switch).value = settings.sales_invoices
        self.query_one("#sync-from", Input).value = settings.sync_from or ""
        self.show_needs(steps)
        if self.pending_focus is not None:
            self.focus_row(*self.pending_focus)

    def focus_row(self, kind: str, ledger_id: int) -> None:
        """Show the map of `kind` with the cursor on the row of `ledger_id` (applied again after a load)."""
        self.pending_focus = (kind, ledger_id)
        self.show_tab(kind)
        if not self.query(TabbedContent) or ledger_id not in self.map_rows[kind]:
            return
        if kind == "sales":
            if self.query_one("#sales-filter", Input).value:
                self.query_one("#sales-filter", Input).value = ""
                self.query_one("#sales-left", VirtualList).filter("")
                self.query_one("#sales-right", VirtualList).filter("")
            self.query_one("#sales-left", VirtualList).select_key(str(ledger_id))
        else:
            table = self.query_one(f"#{kind}-rows", DataTable)
            table.move_cursor(row=table.get_row_index(str(ledger_id)))
        self.pending_focus = None

    def fill_table(self, kind: str) -> None:
        table = self.query_one(f"#{kind}-rows", DataTable)
        keep = table.cursor_row
        table.clear()
        rates = qbo.tax_code_rates(self.firm) if kind == "tax" else {}
        for row in self.map_rows[kind].values():
            need = " (needed)" if row.required and row.status != "mapped" else ""
            qbo_name = row.qbo_name or ""
            if row.qbo_id in rates:
                qbo_name = f"{qbo_name} ({rates[row.qbo_id]})"
            table.add_row(clipped(f"{row.ledger_key} {row.ledger_name}", 30) if kind == "gl" else row.ledger_name,
                          clipped(qbo_name, 24), row.status + need, short_type(row.ledger_detail),
                          key=str(row.ledger_id))
        if table.row_count:
            table.move_cursor(row=min(keep, table.row_count - 1))

    def show_needs(self, steps: dict) -> None:
        for tab, step_ids in TAB_STEPS.items():
            lines = [f"{STATE_WORDS[steps[s].state]}: {steps[s].text(place=False)}" for s in step_ids if s in steps]
            widget = self.query_one(f"#need-{tab}", Static)
            widget.update("\n".join(lines))
            widget.set_class(all(steps[s].state == "done" for s in step_ids if s in steps), "-ok")

    def refresh_needs(self) -> None:
        self.show_needs({s.id: s for s in setup_service.checklist(self.firm)})
        self.app.refresh_header()

    def action_fix(self) -> None:
        """The row the tab's checklist step names as its fix (core.where.Where.row)."""
        steps = {s.id: s for s in setup_service.checklist(self.firm)}
        fix = next((steps[s].fix for s in TAB_STEPS.get(self.tab, ()) if s in steps and steps[s].state != "done"),
                   None)
        if fix is None or fix.row is None or fix.tab is None:
            self.notify("Nothing on this tab is waiting to be mapped.")
            return
        self.focus_row(fix.tab, fix.row)

    # -- the sales split pane -----------------------------------------------------------------
    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "sales-filter":
            self.query_one("#sales-left", VirtualList).filter(event.value)
            self.query_one("#sales-right", VirtualList).filter(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "sales-filter":
            self.query_one("#sales-left", VirtualList).focus()
        elif event.input.id == "sync-from":
            self.action_save_sync()

    def action_filter(self) -> None:
        if self.tab != "sales":
            self.query_one(TabbedContent).active = "sales"
        self.query_one("#sales-filter", Input).focus()

    def refuse(self, exc: LedgerlinkError) -> None:
        self.notify(problem_text(exc), title="Not mapped", severity="error", timeout=10, markup=False)

    def action_map(self) -> None:
        if self.tab in ("gl", "tax"):
            self.pick_qbo(self.tab, self.table_ledger_id(self.tab))
            return
        if self.tab != "sales":
            return
        left = self.query_one("#sales-left", VirtualList).current
        right = self.query_one("#sales-right", VirtualList).current
        if left is None or right is None:
            self.notify("Choose a ledger account on the left and a QBO item on the right.", severity="warning")
            return
        if right.struck:
            self.notify(f"{right.text}: {right.note}", severity="warning", markup=False)
            return
        try:
            row = qbo.set_mapping(self.firm, "sales", int(left.key), right.key)
        except LedgerlinkError as exc:
            self.refuse(exc)
            return
        self.after_sales_change(int(left.key), row)

    def requeue_fixed(self) -> None:
        """Documents parked for a map that is now there go back in the queue at once (the next sync would do it
        anyway): the monitor and the header stop showing a reason that is gone."""
        fixed = [d for d in sync_service.parked(self.firm)
                 if d.kind == "local" and not qbo.doc_unmapped(self.firm, d.doc_type, d.doc_id)]
        for doc in fixed:
            sync_service.retry(self.firm, doc.doc_type, doc.doc_id)
        if fixed:
            self.notify(f"{counted(len(fixed), 'parked document')} can go now: queued for the next sync.")
            self.app.refresh_header()
            self.app.wake_sync()

    def after_sales_change(self, ledger_id: int, row) -> None:
        """Update both panes in place: the left row's mapping and which QBO items are struck."""
        self.requeue_fixed()
        previous = self.map_rows["sales"].get(ledger_id)
        self.map_rows["sales"][ledger_id] = row
        left = self.query_one("#sales-left", VirtualList)
        right = self.query_one("#sales-right", VirtualList)
        left.set_rows([ledger_row(r) for r in self.map_rows["sales"].values()])
        freed = previous.qbo_id if previous is not None else None
        rows = []
        for option in right.rows:
            kind = self.qbo_types.get(option.key)
            if option.key == row.qbo_id:
                option = Row(option.key, option.text, struck=True, note=", ".join(filter(None, (
                    kind, f"used by {row.ledger_name}"))))
            elif option.key == freed and option.key != row.qbo_id:
                option = Row(option.key, option.text, note=", ".join(filter(None, (kind, "free again"))))
            rows.append(option)
        right.set_rows(rows)
        self.refresh_needs()

    def on_virtual_list_highlighted(self, event: VirtualList.Highlighted) -> None:
        """Spell out the highlighted rows below the panes (the panes cut long names at 80 columns)."""
        left = self.query_one("#sales-left", VirtualList).current
        right = self.query_one("#sales-right", VirtualList).current
        row = self.map_rows["sales"].get(int(left.key)) if left else None
        text = row_text(row) if row else ""
        if right is not None:
            text += f"\nQBO: {right.text} ({right.note})"
        if text != self.current_text:  # both panes post this on every filter keystroke: repaint only a change
            self.current_text = text
            self.query_one("#sales-current", Static).update(text, layout=False)  # fixed height: no re-layout

    # Bindings that only mean something on some tabs are hidden on the others.
    ACTION_TABS = {"map": ("sales", "gl", "tax"), "unmap": ("sales", "gl", "tax"), "filter": ("sales",),
                   "suggest": ("sales", "gl", "tax"), "add_row": ("gl", "tax"), "save_sync": ("sync",),
                   "writeoff_items": ("gl",)}

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        tabs = self.ACTION_TABS.get(action)
        return tabs is None or self.tab in tabs

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self.refresh_bindings()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        kind = event.data_table.id.split("-")[0]
        if kind in ("gl", "tax"):
            event.stop()
            self.pick_qbo(kind, int(event.row_key.value))

    def show_tab(self, tab: str) -> None:
        if self.query(TabbedContent):
            super().show_tab(tab)
        else:  # not composed yet: the first mode switch composes it
            self.initial_tab = tab

    def action_unmap(self) -> None:
        if self.tab == "sales":
            current = self.query_one("#sales-left", VirtualList).current
            ledger_id = int(current.key) if current else None
        elif self.tab in ("gl", "tax"):
            ledger_id = self.table_ledger_id(self.tab)
        else:
            return
        if ledger_id is None:
            return
        kind = self.tab
        try:
            removed = qbo.unset_mapping(self.firm, kind, ledger_id)
        except LedgerlinkError as exc:  # e.g. not an admin
            self.refuse(exc)
            return
        if not removed:
            self.notify("That row is not mapped.", severity="warning")
            return
        self.notify("Mapping removed.")
        self.load()

    # -- suggestions ---------------------------------------------------------------------------
    def action_suggest(self) -> None:
        kind = self.tab if self.tab in ("sales", "gl", "tax") else "sales"
        suggestions = qbo.suggest(self.firm, kind)
        if not suggestions:
            self.notify("No suggestions: every remaining name is too different.", severity="information")
            return

        def accept(chosen) -> int:
            rows = qbo.apply_suggestions(self.firm, chosen)
            self.requeue_fixed()
            return len(rows)

        self.app.push_screen(SuggestModal(suggestions, accept), lambda _: self.load())

    # -- GL and tax rows ----------------------------------------------------------------------
    def table_ledger_id(self, kind: str) -> int | None:
        table = self.query_one(f"#{kind}-rows", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return int(key.value)

    def action_add_row(self) -> None:
        kind = self.tab
        if kind not in ("gl", "tax"):
            self.notify("Rows are added in the GL account map and the sales tax map.", severity="warning")
            return
        unmapped = [r for r in self.map_rows[kind].values() if r.status != "mapped"]
        if not unmapped:
            self.notify("Every ledger item of this map is mapped.")
            return
        rows = [Row(str(r.ledger_id), f"{r.ledger_key} {r.ledger_name}" if kind == "gl" else r.ledger_name,
                    note=r.ledger_detail + (" (needed)" if r.required else "")) for r in unmapped]
        what = "ledger account" if kind == "gl" else "ledger tax rate"
        self.app.push_screen(PickerModal(f"Choose the {what} to map", rows),
                             lambda key: self.pick_qbo(kind, int(key)) if key else None)

    def pick_qbo(self, kind: str, ledger_id: int | None) -> None:
        if ledger_id is None:
            return
        options = qbo.list_options(self.firm, kind, ledger_id)
        rows = [option_row(o) for o in options]
        if kind == "tax":  # a tax code by its rate as well as its name
            rates = qbo.tax_code_rates(self.firm)
            rows = [replace(r, note=f"{rates[r.key]}  {r.note}".strip()) if r.key in rates else r for r in rows]
        rows = sorted(rows, key=lambda r: r.struck)  # usable ones first
        reasons = {o.qbo_id: (f"Already used by {o.used_by}" if o.used_by else o.reason) for o in options}
        item = self.map_rows[kind][ledger_id]
        what = "QBO account" if kind == "gl" else "QBO tax code"

        def chosen(qbo_id: str | None) -> None:
            if qbo_id is None:
                return
            try:
                qbo.set_mapping(self.firm, kind, ledger_id, qbo_id)
            except LedgerlinkError as exc:
                self.refuse(exc)
                return
            self.requeue_fixed()
            self.load()

        self.app.push_screen(PickerModal(f"Map {item.ledger_name} to a {what}", rows, reasons), chosen)

    # -- write-offs ---------------------------------------------------------------------------
    def action_writeoff_items(self) -> None:
        """Write-offs need a QBO product/service posting to the bad-debt account's QBO account."""
        fixes = writeoff.writeoff_fixes(self.firm)
        creatable = [fix for fix in fixes if fix.can_create]
        if not creatable:
            text = "\n\n".join(f"{fix.account_label}: {fix.next_step}" for fix in fixes) or \
                "The ledger has no bad-debt account, so write-offs need nothing in QBO."
            self.app.push_screen(TextModal("Write-offs in QuickBooks", text, wide=True))
            return
        names = ", ".join(f"{fix.account_label} → {fix.qbo_account_name}" for fix in creatable)
        question = (f"Create the QuickBooks product/service \"{writeoff.DEFAULT_ITEM_NAME}\" for write-offs "
                    f"({names})? Parked write-offs are then sent with the next sync.")
        ids = [fix.account_id for fix in creatable]
        self.app.push_screen(ConfirmModal(question, "Create"), lambda yes: self.create_items(ids) if yes else None)

    @work(thread=True, exclusive=True, group="qbo")
    def create_items(self, account_ids: list[int]) -> None:
        def create(firm) -> list:
            return [writeoff.create_writeoff_item(firm, account_id) for account_id in account_ids]

        made = with_own_firm(self.app, create, self.refuse)
        if made:
            self.app.call_from_thread(self.items_made, made)

    def items_made(self, made) -> None:
        self.notify(" ".join(m.message for m in made), title="Write-offs", timeout=10, markup=False)
        self.load()

    # -- synchronisation ----------------------------------------------------------------------
    def on_switch_changed(self, event: Switch.Changed) -> None:
        if event.switch.id == "sync-switch":
            self.action_save_sync()

    def action_save_sync(self) -> None:
        enabled = self.query_one("#sync-switch", Switch).value
        since = self.query_one("#sync-from", Input).value.strip() or None
        before = qbo.sync_settings(self.firm)
        try:
            result = qbo.set_sync_enabled(self.firm, enabled, since)
        except LedgerlinkError as exc:
            self.notify(problem_text(exc), title="Not saved", severity="error", markup=False)
            return
        if result == before:
            return  # saved already (the switch saves as it flips): no second toast saying the same
        state = "on" if result.sales_invoices else "off"
        since_text = f", from {result.sync_from}" if result.sync_from else ""
        self.notify(f"Sales invoices synchronisation is {state}{since_text}.")
        self.refresh_needs()

    # -- refresh from QBO ---------------------------------------------------------------------
    def action_refresh_qbo(self) -> None:
        if qbo.connection(self.firm) is None:
            self.notify("Connect to QuickBooks first (Setup › Connect).", severity="warning")
            return
        self.notify("Pulling QBO's reference data…")
        self.pull()

    @work(thread=True, exclusive=True, group="qbo")
    def pull(self) -> None:
        def progress(text: str) -> None:
            self.app.call_from_thread(self.progress, text)

        diff = with_own_firm(self.app, lambda firm: qbo.pull_reference(firm, progress=progress), self.refuse)
        if diff is not None:
            self.app.call_from_thread(self.pulled, diff)

    def progress(self, text: str) -> None:
        self.query_one("#need-sales", Static).update(text)

    def pulled(self, diff) -> None:
        self.load()
        self.app.push_screen(TextModal("Refresh from QBO", diff_text(diff), wide=True))
