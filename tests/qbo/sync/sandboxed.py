"""A firm connected to the local sandbox over HTTP, mapped and switched on, as an admin would set it up."""

from __future__ import annotations

from core.ledger import demo
from core.ledger.firm import create_firm
from core.services import qbo as qbo_services
from core.settings import QBOSettings, Settings, SyncSettings


def sandbox_settings(settings: Settings, sb, **sync) -> Settings:
    """Settings pointing at the sandbox; retry waits and limit windows (client and sandbox) scaled alike."""
    qbo = QBOSettings(environment="local", api_base=sb.base_url, client_id=sb.client_id,
                      client_secret=sb.client_secret, redirect_uri=sb.redirect_uri)
    values = dict(time_scale=0.002, max_backoff=1.0, default_retry_after=1.0)
    values.update(sync)
    # QBO's limits, in the same scaled time on both sides.
    sb.state.set_limits(window=60.0 * values["time_scale"])
    return settings.model_copy(update={"qbo": qbo, "sync": SyncSettings(**values)})


async def _complete_maps(firm, writeoff_item: bool = True) -> None:
    """What an admin does after the suggestions: a product/service for every ledger income account left
    unmapped (QBO references are used at most once), the bad-debt account GL-mapped, and (writeoff_item)
    a product/service for write-offs whose sales post to the QBO account the bad-debt account is mapped to."""
    from core.ledger import queries

    client = await qbo_services.open_client(firm)
    try:
        income = firm.db.execute("SELECT id FROM qbo_accounts WHERE type = 'Income' AND active = 1 "
                                 "ORDER BY id").fetchone()[0]
        for row in qbo_services.list_map(firm, "sales"):
            if row.status != "mapped":
                item = await client.create("Item", {"Name": row.ledger_name[:100], "Type": "Service",
                                                    "IncomeAccountRef": {"value": income},
                                                    "ExpenseAccountRef": {"value": income}}, requestid=None)
                await _pull(firm)
                qbo_services.set_mapping(firm, "sales", row.ledger_id, item["Id"])
        for row in qbo_services.list_map(firm, "gl"):  # the client trust liability, when its name did not match
            if row.status == "unmapped" and row.role == "trust_liability":
                target = firm.db.execute("SELECT id FROM qbo_accounts WHERE subtype = 'TrustAccountsLiabilities' "
                                         "AND active = 1 ORDER BY id").fetchone()
                if target is not None:
                    qbo_services.set_mapping(firm, "gl", row.ledger_id, target[0])
        bad = queries.list_accounts(firm, subtypes=["bad_debt"])[0]
        target = firm.db.execute("SELECT qbo_id FROM qbo_maps WHERE kind = 'gl' AND ledger_id = ?",
                                 [bad.id]).fetchone()
        if target is None:
            target = firm.db.execute("SELECT id FROM qbo_accounts WHERE subtype = 'BadDebts' ORDER BY id").fetchone()
            qbo_services.set_mapping(firm, "gl", bad.id, target[0])
        if not writeoff_item:
            return
        await client.create("Item", {"Name": "Bad debt written off", "Type": "Service",
                                     "IncomeAccountRef": {"value": target[0]},
                                     "ExpenseAccountRef": {"value": target[0]}}, requestid=None)
        await _pull(firm)
    finally:
        await client.aclose()


async def _pull(firm) -> None:
    await qbo_services.pull_reference_async(firm)


async def connect_and_map(firm, sb, *, sync_from: str | None = None, writeoff_item: bool = True) -> None:
    """Connect by pasting the redirect URL, pull, map (suggestions, then the rest by hand), switch on."""
    from core.ledger import queries

    pending = qbo_services.begin_connect(firm)
    country = queries.get_firm_info(firm).country
    await qbo_services.complete_connect_async(firm, sb.approve(pending.url, realm_id=sb.realm_ids[country]))
    await _pull(firm)
    for kind in qbo_services.KINDS:
        qbo_services.apply_suggestions(firm, qbo_services.suggest(firm, kind))
    await _complete_maps(firm, writeoff_item)
    qbo_services.set_sync_enabled(firm, True, sync_from)


def standard_rates_only(firm) -> None:
    """Charge only the UK standard and zero rates (a US firm's 6.25% would go too: pass standard_only=False).
    The reduced rate's per-line rounding has its own test (test_tax_rounded_per_line_agrees_with_qbo_to_the_penny),
    and a difference QBO really makes is reported (test_sandbox_differences.py)."""
    firm.db.execute("UPDATE tax_rates SET active = 0 WHERE rate_ppm NOT IN (0, 200000)")


async def demo_firm(settings: Settings, sb, *, country: str = "UK", invoices: int = 200, payments: int = 120,
              credits: int = 30, clients: int = 25, seed: int = 3, standard_only: bool = True):
    firm = create_firm(settings, country, name="Hartley & Quinn Legal")
    demo.ensure_ready(firm)
    await connect_and_map(firm, sb)
    if standard_only:
        standard_rates_only(firm)
    demo.fill(firm, clients=clients, invoices=invoices, payments=payments, credits=credits, seed=seed)
    await map_new_trust_banks(firm)
    return firm


async def map_new_trust_banks(firm) -> None:
    """A trust bank account added after connecting (the demo's second one) gets a QBO trust bank of its own."""
    for row in qbo_services.list_map(firm, "gl"):
        if row.status == "unmapped" and row.required and row.role == "trust_bank":
            made = await in_qbo(firm, lambda client, name=row.ledger_name: client.create(
                "Account", {"Name": name[:100], "AccountType": "Bank", "AccountSubType": "TrustAccounts"},
                requestid=None))
            await _pull(firm)
            qbo_services.set_mapping(firm, "gl", row.ledger_id, made["Id"])


def cli_env(monkeypatch, s: Settings, sb) -> None:
    """`ledgerlink` run in this process pointed at the firm and the sandbox, as an admin's .env would."""
    monkeypatch.setenv("LEDGERLINK_DB", str(s.db))
    for key, value in (("ENVIRONMENT", "local"), ("API_BASE", sb.base_url), ("CLIENT_ID", sb.client_id),
                       ("CLIENT_SECRET", sb.client_secret), ("REDIRECT_URI", sb.redirect_uri)):
        monkeypatch.setenv(f"LEDGERLINK_QBO__{key}", value)
    for key, value in s.sync.model_dump().items():
        monkeypatch.setenv(f"LEDGERLINK_SYNC__{key.upper()}", str(value))


async def small_firm(settings: Settings, sb):
    """A UK firm with no documents, connected to the sandbox, mapped and switched on."""
    firm = create_firm(sandbox_settings(settings, sb), "UK", name="Wren & Co Solicitors")
    try:
        demo.ensure_ready(firm)
        await connect_and_map(firm, sb)
    except BaseException:
        firm.close()
        raise
    return firm


def fee_line(firm, unit_price: str = "400.00") -> dict:
    """One zero-rated line of fee income."""
    from core.ledger import queries

    fee = queries.list_accounts(firm, subtypes=["fee_income"])[0]
    zero = next(r.id for r in queries.list_tax_rates(firm) if r.rate_ppm == 0)
    return dict(description="Advice", account_id=fee.id, quantity="1", unit_price=unit_price, tax_rate_id=zero)


async def in_qbo(firm, act):
    """Run `act(client)` as someone working in QuickBooks itself would, outside Ledgerlink's sync."""
    from core.qbo.connect import open_client

    client = await open_client(firm)
    try:
        return await act(client)
    finally:
        await client.aclose()
