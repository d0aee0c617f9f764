from core.checks import LEDGER_STEPS
from core.ledger.checks import NO_FIRM, ledger_steps
from core.services.context import open_firm


def test_fresh_database_says_once_how_to_make_a_firm(settings):
    firm = open_firm(settings)
    steps = ledger_steps(firm)
    assert [s.id for s in steps] == list(LEDGER_STEPS)
    assert not any(s.ok for s in steps)
    assert steps[0].message == f"{NO_FIRM}. Open Setup › Billing (or `ledgerlink init --country XX`)."
    assert steps[0].code == "no_firm" and steps[0].fix.as_json() == {
        "screen": "setup", "tab": "billing", "command": "ledgerlink init --country XX", "key": None, "row": None}
    assert all(s.problem == "Needs a firm first (see the first step)" and s.code == "needs_firm" for s in steps[1:])
