"""How a write-off reverses the tax of the invoice lines it writes off (bad-debt relief).

A write-off of the gross amount A is shared over the invoice's tax rates in proportion to what is still open
per rate (gross: the rate's lines and tax, less what credit notes took off that rate; payments and untaxed
write-offs are spread over all rates), by largest remainder. Each rate's share G is then split into net lines
whose tax, priced as QuickBooks prices the credit memo (core.ledger.tax.compute), makes net + tax = G:

  - the net is the largest N with N + tax(N) <= G (per line outside the US, on the rate's subtotal in the US);
  - outside the US what rounding leaves over (a cent or two) is a second line of the same rate, whose own tax
    rounds to nothing, so every rate keeps exactly its share;
  - in the US (one subtotal per rate, so a second taxed line would merge into it) what is left over goes on the
    write-off's untaxed part (a zero-rate share, else a line with no rate, sent with the zero-rate code).

A rate written off in full that nothing else has touched mirrors the invoice's own lines, so a full write-off of
an untouched invoice reverses exactly its net and tax per rate. Nothing here writes; core.ledger.credits posts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping, NamedTuple, Sequence

from core.ledger.base import half_up_div
from core.ledger.tax import SUBTOTAL, Component

if TYPE_CHECKING:
    from core.context import Firm

MAX_LINES_PER_RATE = 4


class WriteoffPart(NamedTuple):
    """One net line of a write-off: its tax rate (None: untaxed) and its net in minor units."""

    tax_rate_id: int | None
    net_minor: int


class OpenByRate(NamedTuple):
    """What a write-off of an invoice is shared over: per rate (in the invoice's order) the gross still open,
    and for each rate nothing has touched yet, the nets of the invoice's own lines."""

    gross: dict[int, int]
    untouched: dict[int, list[int]]


def open_by_rate(firm: "Firm", invoice_id: int, version: int, exclude_credit_id: int | None = None) -> OpenByRate:
    """The invoice's gross per rate less the credit notes on that rate (`exclude_credit_id`: the write-off being
    edited), tax adjustments included; and the untouched rates' line nets."""
    gross: dict[int, int] = {}
    nets: dict[int, list[int]] = {}
    for rate_id, net, tax in firm.db.execute(
            "SELECT tax_rate_id, amount_minor, tax_minor FROM invoice_lines WHERE invoice_id = ? AND version = ? "
            "ORDER BY line_no", [invoice_id, version]):
        gross[rate_id] = gross.get(rate_id, 0) + net + tax
        nets.setdefault(rate_id, []).append(net)
    touched: set[int] = set()
    for rate_id, amount in firm.db.execute(
            "SELECT tax_rate_id, sum(amount_minor) FROM tax_adjustments WHERE invoice_id = ? AND invoice_version = ? "
            "GROUP BY tax_rate_id", [invoice_id, version]):
        gross[rate_id] = gross.get(rate_id, 0) + amount
        touched.add(rate_id)
    for rate_id, amount in firm.db.execute(
            "SELECT l.tax_rate_id, sum(l.amount_minor + l.tax_minor) FROM credit_note_lines l "
            "JOIN credit_notes c ON c.id = l.credit_note_id AND c.version = l.version "
            "WHERE c.invoice_id = ? AND c.status = 'posted' AND l.tax_rate_id IS NOT NULL AND c.id != ? "
            "GROUP BY l.tax_rate_id", [invoice_id, exclude_credit_id or 0]):
        gross[rate_id] = gross.get(rate_id, 0) - amount
        touched.add(rate_id)
    return OpenByRate({r: max(g, 0) for r, g in gross.items()},
                      {r: n for r, n in nets.items() if r not in touched})


def _tax(net: int, components: Sequence[Component]) -> int:
    """The tax of one line (or one rate's subtotal) as QBO rounds it: per component, half-up to the minor unit."""
    return sum(half_up_div(net * c.rate_ppm, 1_000_000) for c in components)


def _largest_net(gross: int, components: Sequence[Component]) -> int:
    """The largest net N >= 0 with N + tax(N) <= gross."""
    ppm = sum(c.rate_ppm for c in components)
    n = gross * 1_000_000 // (1_000_000 + ppm)
    while n + 1 + _tax(n + 1, components) <= gross:
        n += 1
    while n > 0 and n + _tax(n, components) > gross:
        n -= 1
    return n


def _shares(amount: int, weights: dict[int, int]) -> dict[int, int]:
    """`amount` shared over the weights by largest remainder (ties: the largest weight, then the first)."""
    total = sum(weights.values())
    order = list(weights)
    parts = {r: divmod(amount * w, total) for r, w in weights.items()}
    out = {r: q for r, (q, _rem) in parts.items()}
    left = amount - sum(out.values())
    for r in sorted(order, key=lambda r: (-parts[r][1], -weights[r], order.index(r)))[:left]:
        out[r] += 1
    return out


def split_writeoff(method: str, amount: int, open_rates: OpenByRate,
                   components: Mapping[int, Sequence[Component]]) -> list[WriteoffPart]:
    """The net lines of a write-off of `amount` (gross, minor units) whose nets plus their tax priced by
    `method` (core.ledger.tax.compute) add up to exactly `amount`."""
    weights = {r: g for r, g in open_rates.gross.items() if g > 0}
    if not weights:
        return [WriteoffPart(None, amount)]
    parts: list[WriteoffPart] = []
    left = 0
    for rate_id, share in _shares(amount, weights).items():
        if not share:
            continue
        comps = components.get(rate_id, ())
        mirror = open_rates.untouched.get(rate_id)
        if mirror is not None and share == open_rates.gross[rate_id]:
            nets = [sum(mirror)] if method == SUBTOTAL else [n for n in mirror if n]
            parts += [WriteoffPart(rate_id, n) for n in nets]
            continue
        rest = share
        for _ in range(1 if method == SUBTOTAL else MAX_LINES_PER_RATE):
            net = _largest_net(rest, comps)
            if not net:
                break
            parts.append(WriteoffPart(rate_id, net))
            rest -= net + _tax(net, comps)
            if not rest:
                break
        left += rest
    if left:
        untaxed = next((k for k, p in enumerate(parts) if p.tax_rate_id is not None and not components.get(p.tax_rate_id)),
                       None)
        if untaxed is None:
            parts.append(WriteoffPart(None, left))
        else:
            parts[untaxed] = parts[untaxed]._replace(net_minor=parts[untaxed].net_minor + left)
    return parts
