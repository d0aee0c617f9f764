"""Keyboard-only walk through every ledger-side checklist step on a fresh database (`walk_ledger_steps`, walked
by tests/tui/test_full_path.py at 80x24), and the steps' own refusals."""

from __future__ import annotations

from textual.widgets import OptionList

from core.services import ledger
from core.services import setup as setup_service
from tui.modals.form import FormModal
from tui.screens.checklist import ChecklistScreen
from tui.screens.setup_accounts import AccountsScreen
from tui.screens.setup_banks import BankAccountsScreen
from tui.screens.setup_billing import BillingSetupScreen
from tui.screens.setup_preferences import PreferencesScreen
from tui.screens.setup_preview import FeaturePreviewScreen
from tui.screens.setup_tax import SalesTaxScreen
from tui.screens.setup_trust import TrustScreen

from tui_helpers import choose, retype, screen_text, settle, state_text, tab_to


async def type_text(pilot, text: str) -> None:
    await pilot.press(*list(text))


async def open_step(pilot, step_id: str):
    """From the checklist, move the cursor to `step_id` with the arrow keys and press Enter."""
    app = pilot.app
    assert isinstance(app.screen, ChecklistScreen)
    ids = [s.id for s in app.screen.steps]
    options = app.screen.query_one(OptionList)
    while ids[options.highlighted] != step_id:
        await pilot.press("down" if ids.index(step_id) > options.highlighted else "up")
    await pilot.press("enter")
    await pilot.pause()
    return app.screen


def states(app) -> dict[str, str]:
    return {s.id: s.state for s in setup_service.checklist(app.firm)}


async def test_fresh_database_opens_on_the_checklist(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ChecklistScreen)
        assert "0 of 14 steps done" in str(app.screen.query_one("#checklist-progress-text").render())
        assert "New firm" in app.screen.query_one("FirmHeader").render().plain
        assert "local sandbox" in app.screen.query_one("FirmHeader").render().plain


async def walk_ledger_steps(pilot, country: str = "US") -> None:
    """Every ledger-side checklist step by keyboard, from a fresh database, with `country`'s template."""
    app = pilot.app
    # Billing: the preview follows the country choice; Ctrl+S creates the firm.
    screen = await open_step(pilot, "accounting_system")
    assert isinstance(screen, BillingSetupScreen)
    assert "US (USD): " in str(screen.query_one("#preview-title").render())
    if country != "US":
        await choose(pilot, "country", f"({country})")
        assert str(screen.query_one("#preview-title").render()).startswith(f"{country} (")
    await tab_to(pilot, "firm-name")
    await type_text(pilot, "Smith Jones")
    await pilot.press("ctrl+s")
    await pilot.pause()
    assert ledger.get_firm_info(app.firm).name == "Smith Jones"
    assert state_text(screen).startswith("Done: The firm keeps its books in the built-in")
    assert "Smith Jones" in screen.query_one("FirmHeader").render().plain
    await pilot.press("escape")
    await pilot.pause()
    assert "steps done" in str(app.screen.query_one("#checklist-progress-text").render())
    assert states(app)["chart_of_accounts"] == "done"

    # Accounting preferences: choosing Cash explains why Accrual is needed, Accrual fixes it.
    screen = await open_step(pilot, "accrual_method")
    assert isinstance(screen, PreferencesScreen)
    await pilot.press("down", "enter")  # RadioSet: move to Cash and choose it
    await pilot.pause()
    assert screen.query_one("#cash-reason").display
    assert states(app)["accrual_method"] == "missing"
    await pilot.press("up", "enter")
    await pilot.pause()
    assert not screen.query_one("#cash-reason").display
    assert states(app)["accrual_method"] == "done"
    await pilot.press("escape")

    # Bank accounts: add a bank contact, then link an operating account to it.
    screen = await open_step(pilot, "bank_account")
    assert isinstance(screen, BankAccountsScreen)
    await pilot.press("b")
    await pilot.pause()
    assert isinstance(app.screen, FormModal)
    await type_text(pilot, "First National")
    await pilot.press("enter")
    await pilot.pause()
    await pilot.press("a")
    await pilot.pause()
    await type_text(pilot, "Operating")
    await pilot.press("ctrl+s")
    await pilot.pause()
    assert app.screen is screen
    assert states(app)["bank_account"] == "done"
    assert screen.query_one("#banks").row_count == 1
    await pilot.press("escape")

    # Trust: the firm holds no client money.
    screen = await open_step(pilot, "trust_accounting")
    assert isinstance(screen, TrustScreen)
    box = screen.query_one("#no-money")
    assert "X" not in str(box.render())  # the mark, not only its colour, says off (NO_COLOR)
    await pilot.press("a")  # linking a trust account: its example name is a trust one
    await pilot.pause()
    assert isinstance(app.screen, FormModal) and "trust" in app.screen.query_one("#field-name").placeholder.lower()
    await pilot.press("escape")
    await pilot.pause()
    await pilot.press("m")
    await pilot.pause()
    assert "X" in str(box.render())
    assert states(app)["trust_accounting"] == "done"
    assert "holds no client money" in state_text(screen)
    await pilot.press("escape")

    # Accounts: the template already has both kinds; adding a duplicate code is refused with core's reason.
    screen = await open_step(pilot, "income_accounts")
    assert isinstance(screen, AccountsScreen)
    before = screen.query_one("#accounts").row_count
    await pilot.press("a")
    await pilot.pause()
    await pilot.press("tab")
    await type_text(pilot, "1000")
    await pilot.press("tab")
    await type_text(pilot, "Fees again")
    await pilot.press("ctrl+s")
    await pilot.pause()
    assert isinstance(app.screen, FormModal)
    assert "already used" in str(app.screen.query_one("#form-error").render())
    await retype(pilot, "field-code", "4190")
    await pilot.press("ctrl+s")
    await pilot.pause()
    assert app.screen is screen
    assert screen.query_one("#accounts").row_count == before + 1
    await pilot.press("escape")

    # Sales tax: add the 0% rate if the template lacks it; the screen names the 0% rates.
    screen = await open_step(pilot, "sales_tax")
    assert isinstance(screen, SalesTaxScreen)
    await pilot.press("a")
    await pilot.pause()
    await type_text(pilot, "Zero rated")
    await pilot.press("tab")
    await type_text(pilot, "0")
    await pilot.press("ctrl+s")
    await pilot.pause()
    assert states(app)["sales_tax"] == "done"
    assert "Zero rated" in str(screen.query_one("#zero-check").render())
    await pilot.press("escape")

    # Feature preview: one switch.
    screen = await open_step(pilot, "feature_preview")
    assert isinstance(screen, FeaturePreviewScreen)
    assert "space Switch on/off" in screen_text(app).splitlines()[-1]  # the footer says which key flips it
    await pilot.press("enter")
    await pilot.pause()
    assert states(app)["feature_preview"] == "done"
    await pilot.press("escape")
    await pilot.pause()

    ledger_states = [states(app)[s] for s in ("accounting_system", "chart_of_accounts", "accrual_method",
                                              "bank_account", "trust_accounting", "income_accounts",
                                              "sales_tax", "feature_preview")]
    assert ledger_states == ["done"] * 8
    assert "8 of 14 steps done" in str(app.screen.query_one("#checklist-progress-text").render())
