"""The country templates' tax rates are those of each QBO edition, and each has a sandbox tax code of the same
component rates (the tax map compares component by component)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from core import paths
from core.ledger.templates import load_template

EDITIONS = {
    "UK": {("Standard (20%)", "20", False), ("Reduced (5%)", "5", False), ("Zero-rated (0%)", "0", False),
           ("Exempt", "0", True)},
    "AU": {("GST (10%)", "10", False), ("GST-free (0%)", "0", False)},
    "NZ": {("GST (15%)", "15", False), ("Zero-rated (0%)", "0", False)},
}


@pytest.mark.parametrize("cc", sorted(EDITIONS))
def test_uk_au_nz_templates_carry_their_editions_rates(cc):
    assert {(r.name, r.rate_percent, r.exempt) for r in load_template(cc).tax_rates} == EDITIONS[cc]


def _components(rate) -> list[Decimal]:
    parts = [Decimal(c.rate_percent) for c in rate.components] or [Decimal(rate.rate_percent)]
    return sorted(p for p in parts if p)


@pytest.mark.parametrize("cc", ["US", "CA", "UK", "AU", "NZ"])
def test_every_template_rate_has_a_sandbox_code_of_the_same_component_rates(cc):
    template = load_template(cc)
    accounts = {a.code: a for a in template.accounts}
    seed = json.loads((paths.sandbox_seed_dir(cc) / "seed.json").read_text())
    rate_of = {name: Decimal(value) for name, value, _agency in seed["tax"]["rates"]}
    codes = [sorted(rate_of[r] for r in rates if rate_of[r]) for _n, _d, rates in seed["tax"]["codes"]]
    for rate in template.tax_rates:
        assert _components(rate) in codes, f"{cc} {rate.name}: no sandbox code of {_components(rate)}"
        if rate.components:
            assert sum(Decimal(c.rate_percent) for c in rate.components) == Decimal(rate.rate_percent)
            assert all(accounts[c.tax_account_code].subtype == "sales_tax" for c in rate.components)
