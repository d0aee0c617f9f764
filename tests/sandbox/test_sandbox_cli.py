"""`ledgerlink sandbox` and `ledgerlink sandbox dump` as a user runs them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import httpx

from core.cli import main


def test_serve_prints_credentials_and_answers_until_interrupted(tmp_path):
    db = tmp_path / "sb.db"
    proc = subprocess.Popen(
        [sys.executable, "-c", "from core.cli import main; raise SystemExit(main())", "sandbox", "--db", str(db),
         "--company", "US", "--company", "UK", "--client-id", "my-app", "--client-secret", "s3cret",
         "--redirect-uri", "http://127.0.0.1:9999/cb", "--faults", "500@0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ),
    )
    try:
        lines = []
        while not any(line.startswith("Press Ctrl-C") for line in lines):
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            lines.append(line.strip())
        text = "\n".join(lines)
        base = lines[0].split()[-1]
        assert base.startswith("http://127.0.0.1:")
        assert "my-app" in text and "s3cret" in text and "http://127.0.0.1:9999/cb" in text
        assert "company US" in text and "company UK" in text and "company CA" not in text
        doc = httpx.get(base + "/.well-known/openid-configuration").json()
        assert doc["token_endpoint"] == base + "/oauth2/v1/tokens/bearer"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert db.exists()


def test_bad_fault_spec_is_a_plain_error(tmp_path, capsys):
    assert main(["sandbox", "--db", str(tmp_path / "x.db"), "--faults", "explode@1"]) == 1
    assert "unknown fault kind 'explode'" in capsys.readouterr().err


def test_help_documents_the_spec_syntax(capsys):
    try:
        main(["sandbox", "--help"])
    except SystemExit:
        pass
    out = capsys.readouterr().out
    assert "drop-after" in out and "expire-token" in out and "batches-per-minute" in out


def test_dump_text_and_json(tmp_path, capsys):
    from core.sandbox.store import SandboxState

    db = tmp_path / "d.db"
    SandboxState(db, companies=["AU"], no_zero_tax=["AU"], company_settings={"AU": {"sparse_line": "replace"}}).close()
    assert main(["sandbox", "dump", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "AU  realm 9341452718213543" in out and "no zero-rate tax code" in out and "Account" in out
    assert "sparse_line=replace" in out and "tax_overrides=False" in out and "metered calls 0 this month" in out
    assert main(["sandbox", "dump", "--db", str(db), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data[0]["country"] == "AU" and len(data[0]["entities"]["Account"]) >= 120
    assert data[0]["settings"]["sparse_line"] == "replace" and data[0]["metered_this_month"] == 0
    assert main(["sandbox", "dump", "--db", str(tmp_path / "missing.db")]) == 1
