"""Names with control, bidi and formula characters: escaped in every table the command line prints, and a
spreadsheet formula never written raw into an export (while the export still imports back)."""

from __future__ import annotations

import csv

import pytest

from core.cli import main
from core.qbo import connect as connect_mod
from core.services import ledger as L
from core.services.context import open_firm
from tests.qbo.fakeqbo import FakeQBO, make_firm
from tests.qbo.test_cli import PasteStdin

EVIL = "Evil\x1b[2J\x9b31m\u202eCorp\x07"
SHOWN = "Evil\\x1b[2J\\x9b31m\\u202eCorp\\x07"
RAW = ("\x1b", "\x9b", "\u202e", "\x07")


def run(capsys, *args) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def assert_neutral(text: str) -> None:
    for ch in RAW:
        assert ch not in text, repr(text)


@pytest.fixture
def fake(settings, monkeypatch):
    make_firm(settings).close()
    fake = FakeQBO()
    monkeypatch.setattr(connect_mod, "app_config", lambda settings, transport=None: fake.app())
    monkeypatch.setenv("LEDGERLINK_DB", str(settings.db))
    monkeypatch.setenv("LEDGERLINK_QBO__API_BASE", "http://127.0.0.1:9")
    return fake


def test_report_aging_and_users_list_escape_control_and_bidi(settings, capsys):
    firm = L.create_firm(settings, "US", name="Hartley & Quinn LLP")
    from core.ledger.demo import ensure_ready

    ensure_ready(firm)
    client = L.add_client(firm, EVIL).id
    fees = L.get_account_by_code(firm, "4000").id
    zero = next(r.id for r in L.list_tax_rates(firm) if r.name == "No Sales Tax (0%)")
    L.create_invoice(firm, client_id=client, date="2026-02-01",
                     lines=[dict(description="Advice", account_id=fees, quantity="1", unit_price="10", tax_rate_id=zero)])
    firm.close()
    code, out, _ = run(capsys, "--db", str(settings.db), "report", "aging")
    assert code == 0 and SHOWN in out
    assert_neutral(out)
    code, out, _ = run(capsys, "--db", str(settings.db), "users", "grant", EVIL, "bookkeeper")
    assert code == 0
    assert_neutral(out)
    code, out, _ = run(capsys, "--db", str(settings.db), "users", "list")
    assert code == 0 and SHOWN in out
    assert_neutral(out)
    with pytest.raises(SystemExit):
        main(["--db", str(settings.db), "users", "grant", "x", "emperor" + EVIL])
    out, err = capsys.readouterr()
    assert "emperorEvil\\x1b" in err
    assert_neutral(out + err)


def test_map_show_escapes_and_map_export_neutralises_formulas(fake, settings, capsys, monkeypatch, tmp_path):
    formula = '=HYPERLINK("http://evil.example","Fees")'
    fake.ref["Item"][0]["Name"] = formula
    fake.ref["Item"][1]["Name"] = EVIL
    monkeypatch.setattr("sys.stdin", PasteStdin(fake, settings.db))
    assert run(capsys, "connect", "--no-listen")[0] == 0
    firm = open_firm(settings)
    ids = {i["Name"]: i["Id"] for i in fake.ref["Item"]}
    firm.close()
    assert run(capsys, "map", "set", "sales", "4000", ids[formula])[0] == 0
    assert run(capsys, "map", "set", "sales", "4100", ids[EVIL])[0] == 0
    code, out, _ = run(capsys, "map", "show", "sales")
    assert code == 0 and "Evil\\x1b[2J" in out and '=HYPERLINK("http' in out
    assert_neutral(out)
    code, out, _ = run(capsys, "map", "show", "sales", "--json")
    assert code == 0
    assert_neutral(out)
    path = tmp_path / "maps.csv"
    assert run(capsys, "map", "export", str(path))[0] == 0
    cells = [c for row in csv.reader(path.open(newline="", encoding="utf-8")) for c in row]
    assert "'" + formula in cells and formula not in cells
    assert not any(c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells)
    assert run(capsys, "map", "unset", "sales", "4000")[0] == 0
    code, out, err = run(capsys, "map", "import", str(path))
    assert code == 0, err
    code, out, _ = run(capsys, "map", "show", "sales")
    assert '=HYPERLINK("http' in out  # the export reads back to the same map
