"""The Trust screen's forms: modal screens that post through core.services.trust in a worker (the event loop
never waits on the database) and dismiss with the typed result (a TrustTransaction, Payment, ImportResult or
Reconciliation); core's own message is shown in place when it refuses."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from textual import work
from textual.widgets import Static

from core.errors import LedgerlinkError
from tui.modals import form as form_module
from tui.modals.form import Field, FormModal, problem_text


class TrustForm(FormModal):
    """A FormModal whose `submit(firm, values)` runs in a thread worker on its own firm connection."""

    CSS_PATH = str(Path(form_module.__file__).with_name("form.tcss"))

    def __init__(self, title: str, fields: Sequence[Field], submit: Callable[[object, dict], object],
                 note: str = "") -> None:
        super().__init__(title, fields, lambda values: None, note)
        self.post = submit

    def action_submit(self) -> None:
        self.query_one("#form-error", Static).update("Saving…")
        self.run_submit(self.values())

    @work(thread=True, exclusive=True, group="trust-form")
    def run_submit(self, values: dict) -> None:
        from core.services.context import open_firm

        firm = open_firm(self.app.settings)
        try:
            result = self.post(firm, values)
        except LedgerlinkError as exc:
            self.app.call_from_thread(self.show_problem, exc)
            return
        finally:
            firm.close()
        self.app.call_from_thread(self.dismiss, result)

    def show_problem(self, exc: LedgerlinkError) -> None:
        error = self.query_one("#form-error", Static)
        error.update(problem_text(exc))
        error.add_class("-shown")
        error.scroll_visible(animate=False)


def _blank(value) -> str | None:
    text = str(value or "").strip()
    return text or None


def move_form(kind: str, clients: list, accounts: list, today: str, account_id: int | None) -> TrustForm:
    """receive | disburse | refund | transfer, by client name and account id."""
    from core.services import trust as S

    client_options = [(c.name, c.name) for c in clients]
    account_options = [(a.name, a.id) for a in accounts]
    first = account_id if account_id is not None else (accounts[0].id if accounts else None)
    fields = [Field("client", "Client", "select", client_options, client_options[0][1] if client_options else None),
              Field("amount", "Amount", placeholder="1000.00")]
    if kind == "transfer":
        second = next((a.id for a in accounts if a.id != first), None)
        fields += [Field("account", "From account", "select", account_options, first),
                   Field("to", "To account", "select", account_options, second)]
    else:
        fields.append(Field("account", "Trust account", "select", account_options, first))
    if kind == "disburse":
        fields.append(Field("payee", "Payee", placeholder="who is paid"))
    fields += [Field("matter", "Matter reference", placeholder="optional"),
               Field("date", "Date (YYYY-MM-DD)", value=today),
               Field("reference", "Reference", placeholder="cheque number, wire reference"),
               Field("memo", "Reason")]

    def submit(firm, v: dict):
        common = dict(matter=_blank(v["matter"]), date=v["date"], reference=_blank(v["reference"]),
                      memo=v["memo"] or "")
        if kind == "receive":
            return S.receive(firm, v["client"] or "", v["amount"], v["account"] or "", **common)
        if kind == "disburse":
            return S.disburse(firm, v["client"] or "", v["amount"], v["account"] or "", payee=v["payee"], **common)
        if kind == "refund":
            return S.refund(firm, v["client"] or "", v["amount"], v["account"] or "", **common)
        return S.transfer(firm, v["client"] or "", v["amount"], v["account"] or "", v["to"] or "", **common)

    titles = {"receive": "Receive client money into trust", "disburse": "Disburse from trust to a payee",
              "refund": "Refund trust money to the client", "transfer": "Transfer between trust accounts"}
    return TrustForm(titles[kind], fields, submit, note="Posted at once; a correction is a reversal.")


def pay_form(invoices: list, accounts: list, today: str, account_id: int | None) -> TrustForm:
    from core.services import trust as S
    from tui.format import money_text, plain_amount

    options = [(f"{i.number} {i.client_name} {money_text(i.open_balance_minor)}", i.number) for i in invoices]
    amounts = {i.number: plain_amount(i.open_balance_minor) for i in invoices}
    first = account_id if account_id is not None else (accounts[0].id if accounts else None)
    fields = [Field("invoice", "Invoice", "select", options, options[0][1] if options else None),
              Field("amount", "Amount", value=amounts.get(options[0][1], "") if options else ""),
              Field("account", "From trust account", "select", [(a.name, a.id) for a in accounts], first),
              Field("date", "Date (YYYY-MM-DD)", value=today), Field("reference", "Reference")]

    def submit(firm, v: dict):
        return S.pay(firm, v["invoice"] or "", v["amount"], v["account"] or "", date=v["date"],
                     reference=_blank(v["reference"]))

    return TrustForm("Pay an invoice from trust", fields, submit,
                     note="The payment goes to the operating account; the money leaves trust in the same entry.")


def import_form(accounts: list, account_id: int | None) -> TrustForm:
    from core.services import trust as S

    fields = [Field("account", "Trust account", "select", [(a.name, a.id) for a in accounts], account_id),
              Field("file", "Statement file", placeholder="/path/to/statement.csv")]
    return TrustForm("Import a bank statement (CSV)", fields,
                     lambda firm, v: S.import_statement(firm, v["account"] or "", (v["file"] or "").strip()),
                     note="Header date,description,amount[,reference]; matched automatically after import.")


def reconcile_form(account_id: int, account_name: str, today: str) -> TrustForm:
    from core.services import trust as S

    fields = [Field("as_of", "As of (YYYY-MM-DD)", value=today),
              Field("save", "Save when it balances (locks the period)", "check", value=True)]
    return TrustForm(f"Three-way reconciliation of {account_name}", fields,
                     lambda firm, v: S.reconcile(firm, account_id, v["as_of"], save=bool(v["save"])))



def reverse_form(t, client: str, accounts: dict, day: str) -> TrustForm:
    """Confirm a trust transaction's reversal: it names the transaction, client and amount and asks why."""
    from core.services import trust as S
    from tui.format import money_text

    where = accounts.get(t.bank_account_id, str(t.bank_account_id))
    if t.to_bank_account_id is not None:
        where += f" to {accounts.get(t.to_bank_account_id, str(t.to_bank_account_id))}"
    what = (f"Trust {t.kind} {t.id}: {client}, {money_text(t.amount_minor)} {t.currency}, {where}, dated {t.date}"
            + (f", reference {t.reference}" if t.reference else "") + ".")
    fields = [Field("reason", "Reason", placeholder="why it is reversed (kept in the audit log)"),
              Field("date", "Reversal date (YYYY-MM-DD)", value=day)]
    return TrustForm(f"Reverse trust {t.kind} {t.id}", fields,
                     lambda firm, v: S.reverse(firm, t.id, reason=v["reason"] or "", date=v["date"] or None),
                     note=what + " The exact opposite is posted; refused if a client ledger would go below zero "
                                 "or the date is in a reconciled period.")
