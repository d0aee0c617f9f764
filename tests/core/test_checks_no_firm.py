from core.checks import LEDGER_STEPS
from core.ledger.checks import NO_FIRM, ledger_steps
from core.services.context import open_firm


def test_fresh_database_says_once_how_to_make_a_firm(settings):
    firm = open_firm(settings)
    steps = ledger_steps(firm)
    assert [s.id for s in steps] == list(LEDGER_STEPS)
    assert not any(s.ok for s in steps)
    assert steps[0].message == NO_FIRM
    assert all(s.message == "Needs a firm first (see the first step)" for s in steps[1:])
