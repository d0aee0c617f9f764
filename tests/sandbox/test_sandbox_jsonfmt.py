"""The sandbox writes JSON as QBO does: amounts with two decimals (a zero as 0), other numbers as given."""

from __future__ import annotations

import json
import re
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from core.sandbox import jsonfmt


def _reference_dumps(value) -> str:
    """The plain way: mark every number as a string, let json write it, then unquote the marks."""

    def encode(v, key=None):
        if isinstance(v, dict):
            return {k: encode(x, k) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [encode(x, key) for x in v]
        if isinstance(v, bool) or v is None or isinstance(v, str):
            return v
        d = v if isinstance(v, Decimal) else Decimal(str(v))
        if key in jsonfmt.MONEY_FIELDS and d != 0:
            return "\0N:" + str(d.quantize(jsonfmt.CENT, rounding="ROUND_HALF_UP"))
        if d == d.to_integral_value():
            return "\0N:" + str(d.quantize(Decimal(1)))
        return "\0N:" + format(d.normalize(), "f")

    text = json.dumps(encode(value), ensure_ascii=False, separators=(",", ":"))
    return re.sub(r'"\\u0000N:(-?[0-9.]+)"', r"\1", text)


def test_an_invoice_reads_as_qbo_writes_it():
    invoice = {
        "Id": "12", "DocNumber": "INV-0007", "TotalAmt": Decimal("120.5"), "Balance": 0,
        "Line": [{"Amount": Decimal("100.456"), "DetailType": "SalesItemLineDetail",
                  "SalesItemLineDetail": {"Qty": Decimal("1.50"), "UnitPrice": 66, "TaxCodeRef": {"value": "3"}}},
                 {"Amount": Decimal("0.00"), "DetailType": "DescriptionOnly", "Description": "Ré: “advice”\n"}],
        "TxnTaxDetail": {"TotalTax": Decimal("20.1"), "TaxLine": []},
        "AllowOnlinePayment": False, "PrivateNote": None, "CustomField": {},
    }
    text = jsonfmt.dumps(invoice)
    assert text == (
        '{"Id":"12","DocNumber":"INV-0007","TotalAmt":120.50,"Balance":0,'
        '"Line":[{"Amount":100.46,"DetailType":"SalesItemLineDetail",'
        '"SalesItemLineDetail":{"Qty":1.5,"UnitPrice":66,"TaxCodeRef":{"value":"3"}}},'
        '{"Amount":0,"DetailType":"DescriptionOnly","Description":"Ré: “advice”\\n"}],'
        '"TxnTaxDetail":{"TotalTax":20.10,"TaxLine":[]},"AllowOnlinePayment":false,"PrivateNote":null,'
        '"CustomField":{}}'
    )
    assert jsonfmt.loads(text)["Line"][0]["Amount"] == Decimal("100.46")


keys = st.sampled_from(["Amount", "TotalAmt", "Balance", "Qty", "UnitPrice", "Id", "Name", "Line", "é"])
numbers = st.one_of(st.integers(-10**12, 10**12),
                    st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-10**9, max_value=10**9))
leaves = st.one_of(st.none(), st.booleans(), st.text(max_size=8), numbers)
values = st.recursive(leaves, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                      st.dictionaries(keys, inner, max_size=5)), max_leaves=25)


@settings(max_examples=300, deadline=None)
@given(values)
def test_the_one_pass_writer_matches_the_plain_way(value):
    assert jsonfmt.dumps(value) == _reference_dumps(value)
