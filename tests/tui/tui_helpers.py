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
    """Wait for every worker and the messages they posted."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
