"""A firm made from any country template can finish its tax map on that country's sandbox company."""

import csv
import json
from decimal import Decimal

import pytest

from core import paths


@pytest.mark.parametrize("cc", ["US", "CA", "UK", "AU", "NZ"])
def test_every_template_rate_has_a_sandbox_code_of_the_same_rate(cc):
    seed = json.loads((paths.sandbox_seed_dir(cc) / "seed.json").read_text())
    rate_of = {name: Decimal(value) for name, value, _agency in seed["tax"]["rates"]}
    code_rates = {sum((rate_of[r] for r in rates), Decimal(0)) for _n, _d, rates in seed["tax"]["codes"]}
    with open(paths.template_dir(cc) / "tax_rates.csv", newline="") as fh:
        template = [Decimal(row["rate_percent"]) for row in csv.DictReader(fh)]
    missing = [str(r) for r in template if r not in code_rates]
    assert not missing, f"{cc} sandbox company has no tax code at {', '.join(missing)}%"
