"""Helpers shared by the TUI tests."""

from __future__ import annotations


def state_text(screen) -> str:
    """The step state line(s) of a step screen, as the user reads them."""
    return str(screen.query_one(".step-state").render())


def for_sandbox(settings, sb):
    """Settings pointing at a running local sandbox (the test's own, not the embedded one)."""
    from core.settings import QBOSettings

    qbo = QBOSettings(environment="local", api_base=sb.base_url, client_id=sb.client_id,
                      client_secret=sb.client_secret, redirect_uri=sb.redirect_uri)
    return settings.model_copy(update={"qbo": qbo})


def ready_firm(settings, country: str = "AU") -> None:
    """A firm with every ledger-side step done (the state after the setup walk), through core.services.

    AU by default: its template's tax rates match the AU sandbox company's tax codes one to one.
    """
    from core.services import ledger

    firm = ledger.create_firm(settings, country, name="Smith Jones")
    try:
        bank = ledger.add_contact(firm, "First National", "bank")
        gl = ledger.list_accounts(firm, subtypes=["operating_bank"])[0]
        ledger.add_bank_account(firm, name="Operating", kind="operating", bank_contact_id=bank.id, gl_account_id=gl.id)
        ledger.set_no_client_money(firm, True)
        ledger.set_feature_preview(firm, "qbo_integration_upgrade", True)
    finally:
        firm.close()


async def settle(pilot) -> None:
    """Wait for the firm to open, then for every worker and the messages they posted (not for a listener waiting
    on a browser)."""
    await _opened(pilot)
    for _ in range(2):
        busy = [w for w in pilot.app.workers if w.group != "callback"]
        if busy:  # an empty list would mean every worker
            await pilot.app.workers.wait_for_complete(busy)
        await pilot.pause()
    # The footer fills in after a refresh; a loaded machine can take several frames.
    from textual.widgets import Footer

    for _ in range(50):
        if all(f.children for f in pilot.app.screen.query(Footer)):
            break
        await pilot.pause()


async def _opened(pilot) -> None:
    """Until the opening worker has shown the first screen (or failed): it starts only after the first paint, so
    a key pressed before it lands on the opening screen."""
    app = pilot.app
    for _ in range(500):
        if getattr(app, "opened", True):
            return
        opening = [w for w in app.workers if w.group == "open"]
        if opening and all(w.is_finished for w in opening):
            return  # failed: the opening screen says why
        if opening:
            await app.workers.wait_for_complete(opening)
        await pilot.pause()


async def connected_and_mapped(settings, sb, country: str = "AU") -> None:
    """ready_firm, then connected to the sandbox company of `country`, all three maps done, sync on."""
    from core.services import qbo
    from core.services.context import open_firm

    ready_firm(settings, country)
    firm = open_firm(settings)
    try:
        pending = qbo.begin_connect(firm)
        await qbo.complete_connect_async(firm, sb.approve(pending.url, sb.realm_ids[country]))
        await qbo.pull_reference_async(firm)
        for kind in ("sales", "tax", "gl"):
            qbo.apply_suggestions(firm, qbo.suggest(firm, kind))
        map_the_rest(firm)
        qbo.set_sync_enabled(firm, True)
    finally:
        firm.close()


def map_the_rest(firm) -> None:
    """Every required GL row and every fee-income or expense-recovery account (the checklist's truth) mapped to a
    free valid reference; an account with no free Product/Service left is made inactive, as a bookkeeper would."""
    from core.services import ledger, qbo

    for row in qbo.list_map(firm, "gl"):
        if row.required and row.status != "mapped":
            option = next(o for o in qbo.list_options(firm, "gl", row.ledger_id) if o.valid and not o.used_by)
            qbo.set_mapping(firm, "gl", row.ledger_id, option.qbo_id)
    for row in qbo.list_map(firm, "sales"):
        if row.role in ("income", "expense") and row.status != "mapped":
            option = next((o for o in qbo.list_options(firm, "sales", row.ledger_id) if o.valid and not o.used_by),
                          None)
            if option is None:
                ledger.set_account_active(firm, row.ledger_id, False)
            else:
                qbo.set_mapping(firm, "sales", row.ledger_id, option.qbo_id)


def first_invoice_lines(firm) -> list[dict]:
    """One fee line on the first mapped fee-income account at the first taxed rate."""
    from core.services import ledger, qbo

    fee = next(r for r in qbo.list_map(firm, "sales") if r.status == "mapped" and r.role == "income")
    rate = next(r for r in ledger.list_tax_rates(firm, active_only=True) if r.rate_ppm)
    return [{"description": "Advice", "account_id": fee.ledger_id, "tax_rate_id": rate.id,
             "quantity": "2", "unit_price": "150.00"}]


def screen_text(app) -> str:
    """The screen as plain text lines (from the SVG screenshot), as a user would read it."""
    import html
    import re
    from collections import defaultdict

    svg = app.export_screenshot()
    rows: dict[float, list[tuple[float, str]]] = defaultdict(list)
    for m in re.finditer(r'<text class="[^"]*" x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>', svg):
        rows[float(m.group(2))].append((float(m.group(1)), html.unescape(m.group(3)).replace("\xa0", " ")))
    lines = []
    for y in sorted(rows):
        line = ""
        for x, text in sorted(rows[y]):
            line = line.ljust(int(round(x / 12.2))) + text
        lines.append(line.rstrip())
    return "\n".join(lines)


async def tab_to(pilot, widget_id: str) -> None:
    """Move the focus with Tab until the widget `widget_id` has it, as a user does."""
    for _ in range(30):
        focused = pilot.app.focused
        if focused is not None and focused.id == widget_id:
            return
        await pilot.press("tab")
    app = pilot.app
    raise AssertionError(f"Tab never reaches #{widget_id} on {app.screen!r} (focused: {app.focused!r}; "
                         f"screens: {app.screen_stack!r})")


async def retype(pilot, widget_id: str, text: str) -> None:
    """Tab to a field, clear what is in it and type `text`."""
    await tab_to(pilot, widget_id)
    value = pilot.app.focused.value
    await pilot.press("end", *["backspace"] * len(value), *text)


async def choose(pilot, widget_id: str, text: str) -> None:
    """Tab to a Select, open it, type part of an option's text to jump to it, Enter to take it."""
    await tab_to(pilot, widget_id)
    await pilot.press("enter", *text, "enter")
    await pilot.pause()
