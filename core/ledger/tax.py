"""Sales tax priced the way the firm's QuickBooks edition prices it (qbo-api.md §5.13-5.14).

A tax rate has one or more components (GST 5% + PST 7%), each with its own percent (parts per million of the
amount) and its own liability account. QBO works the tax out per component rate, rounding half-up to the cent:

  per_line  (every edition but the US): round(line net x component rate) for each line and component; a rate's
            tax is the sum of those rounded amounts.
  subtotal  (US without automated sales tax): round(taxable subtotal of the rate x component rate), once per
            component; the invoice's tax is their sum.

Two lines of 1.20 at 6.25% are 0.15 tax by `subtotal` (2.40 x 6.25%) and 0.16 by `per_line` (0.08 + 0.08).
The tax a line shows (`line_tax`) is exact for `per_line`; for `subtotal` it is the rate's tax shared over its
lines in proportion to their amounts (largest remainder), so the lines always add up to the document's tax.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from core.ledger.base import half_up_div

PER_LINE = "per_line"
SUBTOTAL = "subtotal"


def tax_method(country: str) -> str:
    """How QBO of the firm's country computes sales tax: 'subtotal' for the US, 'per_line' everywhere else."""
    return SUBTOTAL if (country or "").strip().upper() == "US" else PER_LINE


@dataclass(frozen=True)
class Component:
    """One tax of a rate: GST 5% of GST/PST BC, posting to GST payable."""

    id: int | None
    name: str
    rate_ppm: int
    account_id: int | None


@dataclass(frozen=True)
class TaxResult:
    line_tax: tuple[int, ...]  # per priced line, in the order given
    by_component: dict  # (rate id, component index) -> minor units
    total: int

    def by_account(self, components: Mapping[int, Sequence[Component]]) -> dict[int, int]:
        """Minor units per liability account (what the posting credits)."""
        out: dict[int, int] = {}
        for (rate_id, k), amount in self.by_component.items():
            account = components[rate_id][k].account_id
            if amount and account is not None:
                out[account] = out.get(account, 0) + amount
        return out

    def of_rate(self, rate_id: int) -> int:
        return sum(v for (r, _k), v in self.by_component.items() if r == rate_id)


def compute(method: str, lines: Sequence[tuple[int, int]], components: Mapping[int, Sequence[Component]]
            ) -> TaxResult:
    """The tax of priced lines [(amount_minor, tax_rate_id), ...] by `method`."""
    by_component: dict = {}
    if method == PER_LINE:
        line_tax = []
        for amount, rate_id in lines:
            tax = 0
            for k, comp in enumerate(components[rate_id]):
                t = half_up_div(amount * comp.rate_ppm, 1_000_000)
                key = (rate_id, k)
                by_component[key] = by_component.get(key, 0) + t
                tax += t
            line_tax.append(tax)
        return TaxResult(tuple(line_tax), by_component, sum(line_tax))
    if method != SUBTOTAL:
        raise ValueError(f"unknown tax method {method!r}")
    subtotals: dict[int, int] = {}
    for amount, rate_id in lines:
        subtotals[rate_id] = subtotals.get(rate_id, 0) + amount
    rate_tax: dict[int, int] = {}
    for rate_id, subtotal in subtotals.items():
        for k, comp in enumerate(components[rate_id]):
            t = half_up_div(subtotal * comp.rate_ppm, 1_000_000)
            by_component[(rate_id, k)] = t
            rate_tax[rate_id] = rate_tax.get(rate_id, 0) + t
    return TaxResult(_share(lines, subtotals, rate_tax), by_component, sum(rate_tax.values()))


def _share(lines: Sequence[tuple[int, int]], subtotals: dict[int, int], rate_tax: dict[int, int]) -> tuple[int, ...]:
    """Each rate's tax spread over its lines in proportion to their amounts, by largest remainder."""
    out = [0] * len(lines)
    for rate_id, tax in rate_tax.items():
        subtotal = subtotals[rate_id]
        idx = [i for i, (_a, r) in enumerate(lines) if r == rate_id]
        if not tax or not subtotal:
            continue
        if len(idx) == 1:
            out[idx[0]] = tax
            continue
        parts = [divmod(tax * lines[i][0], subtotal) for i in idx]
        for i, (q, _r) in zip(idx, parts):
            out[i] = q
        left = tax - sum(q for q, _r in parts)
        if left:
            for j in sorted(range(len(idx)), key=lambda j: (-parts[j][1], j))[:left]:
                out[idx[j]] += 1
    return tuple(out)


def load_components(db) -> dict[int, tuple[Component, ...]]:
    """Every tax rate's components in order (a zero rate has none)."""
    out: dict[int, list[Component]] = {r[0]: [] for r in db.execute("SELECT id FROM tax_rates")}
    for cid, rate_id, name, ppm, account in db.execute(
            "SELECT id, tax_rate_id, name, rate_ppm, tax_account_id FROM tax_rate_components ORDER BY tax_rate_id, seq"):
        out.setdefault(rate_id, []).append(Component(cid, name, ppm, account))
    return {k: tuple(v) for k, v in out.items()}
