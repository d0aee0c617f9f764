"""Setup › Sales tax: the firm's rates, including the 0% rate QBO needs a matching zero-rate code for; a rate may
be made of components (GST 5% + PST 7%), each posting to its own liability account."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from core.services import ledger
from tui.modals.form import Field, FormModal
from tui.screens.step import StepScreen

ZERO_NOTE = ("Every rate the firm charges must exist here, and a 0% rate too (for untaxed lines). "
             "QBO needs a zero-rate tax code as well: it is checked after connecting.")
COMPONENT_SLOTS = 3
RATE_FORM_NOTE = ("A combined rate (GST 5% + PST 7%) lists its components, each with its liability account; "
                  "they must add up to the rate. A single rate needs no component.")


def component_text(rate) -> str:
    """'GST 5% + PST 7%' for a rate of several components, '' for one of a single tax."""
    return " + ".join(f"{c.name} {c.rate_percent}%" for c in rate.components) if len(rate.components) > 1 else ""


def rate_fields(firm, *, name: str = "", rate: str = "", with_name: bool = True) -> list[Field]:
    """The fields of a tax rate: name, percent, exempt, its liability account, and up to three components."""
    payable = [(a.label, a.id) for a in ledger.list_accounts(firm, subtypes=["sales_tax"], active_only=True)]
    fields = [Field("name", "Name", value=name, placeholder="e.g. GST/PST BC (12%)")] if with_name else []
    fields += [Field("rate", "Rate in percent", value=rate, placeholder="e.g. 12 or 9.975")]
    if with_name:
        fields.append(Field("exempt", "Exempt (a 0% rate for exempt supplies)", "check", value=False))
    fields.append(Field("account", "Liability account", "select", payable, payable[0][1] if payable else None))
    for n in range(1, COMPONENT_SLOTS + 1):
        fields += [Field(f"c{n}_name", f"Component {n} name", placeholder="e.g. GST" if n == 1 else ""),
                   Field(f"c{n}_rate", f"Component {n} percent", placeholder="e.g. 5" if n == 1 else ""),
                   Field(f"c{n}_account", f"Component {n} account", "select", payable, None)]
    return fields


def rate_components(values: dict) -> list[tuple]:
    """The components typed in the form as (name, percent, account id); empty slots are left out. A component
    without an account is passed on, so the ledger refuses it by name."""
    out = []
    for n in range(1, COMPONENT_SLOTS + 1):
        name, rate, account = (values.get(f"c{n}_name") or "").strip(), (values.get(f"c{n}_rate") or "").strip(), \
            values.get(f"c{n}_account")
        if name or rate:
            out.append((name, rate, account))
    return out


def add_rate_form(firm, add_tax_rate) -> FormModal:
    """The form adding a rate through `add_tax_rate` (core.services' add_tax_rate)."""
    def submit(v: dict):
        parts = rate_components(v)
        return add_tax_rate(firm, v["name"], v["rate"], exempt=v["exempt"], components=parts,
                            tax_account_id=None if parts or v["exempt"] else v["account"])

    return FormModal("Add a sales tax rate", rate_fields(firm), submit, note=RATE_FORM_NOTE)


class SalesTaxScreen(StepScreen):
    """Rates with their percentage and components; `a` adds one (name, percent, exempt, components)."""

    CSS_PATH = "setup_tax.tcss"
    STEP_IDS = ("sales_tax",)
    PLACE = "Sales tax"
    INTRO = ZERO_NOTE
    BINDINGS = [Binding("a", "add_rate", "Add rate", id="tax.add", tooltip="Add a sales tax rate")]

    def compose_step(self) -> ComposeResult:
        yield DataTable(id="rates", cursor_type="row")
        yield Static("", id="zero-check", classes="note")

    def on_mount(self) -> None:
        self.query_one("#rates", DataTable).add_columns("Name", "Rate", "Components", "Exempt", "Active")
        super().on_mount()
        self.query_one("#rates", DataTable).focus()

    def refresh_data(self) -> None:
        table = self.query_one("#rates", DataTable)
        table.clear()
        if not ledger.firm_exists(self.firm):
            return
        rates = ledger.list_tax_rates(self.firm)
        for rate in rates:
            table.add_row(rate.name, f"{rate.rate_percent}%", component_text(rate), "yes" if rate.exempt else "",
                          "yes" if rate.active else "no")
        zero = [r.name for r in rates if r.rate_ppm == 0 and r.active]
        self.query_one("#zero-check", Static).update(
            f"0% rate: {', '.join(zero)}." if zero else "No 0% rate yet: add one (a).")

    def action_add_rate(self) -> None:
        self.app.push_screen(add_rate_form(self.firm, ledger.add_tax_rate), self.after_form)
