"""Chart-of-accounts and tax-rate templates per country (`data/templates/<CC>/*.csv`)."""

from __future__ import annotations

import csv

from core import paths
from core.errors import ValidationError
from core.ledger.base import COUNTRY_CURRENCY
from core.ledger.models import ChartTemplate, TemplateAccount, TemplateTaxComponent, TemplateTaxRate

COUNTRIES = tuple(COUNTRY_CURRENCY)


def check_country(country: str) -> str:
    cc = (country or "").strip().upper()
    if cc == "GB":
        cc = "UK"
    if cc not in COUNTRIES:
        raise ValidationError(f"Country '{country}' has no template: choose one of {', '.join(COUNTRIES)}")
    return cc


def load_template(country: str) -> ChartTemplate:
    cc = check_country(country)
    folder = paths.template_dir(cc)
    with open(folder / "accounts.csv", newline="", encoding="utf-8") as f:
        accounts = tuple(TemplateAccount(r["code"], r["name"], r["type"], r["subtype"]) for r in csv.DictReader(f))
    with open(folder / "tax_rates.csv", newline="", encoding="utf-8") as f:
        rates = tuple(
            TemplateTaxRate(r["name"], r["rate_percent"], r["exempt"] == "1", r["tax_account_code"] or None,
                            _components(r.get("components")))
            for r in csv.DictReader(f)
        )
    return ChartTemplate(cc, COUNTRY_CURRENCY[cc], accounts, rates)


def _components(text: str | None) -> tuple[TemplateTaxComponent, ...]:
    """The `components` column: `name:percent:account code` parts joined by `;` (empty: a single rate)."""
    out = []
    for part in (text or "").split(";"):
        if part.strip():
            name, percent, code = (p.strip() for p in part.rsplit(":", 2))
            out.append(TemplateTaxComponent(name, percent, code))
    return tuple(out)
