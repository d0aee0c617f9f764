"""Bad settings through the command line: a message naming the setting and where it was set, exit 1, no
traceback, never a secret, and the firm untouched."""

from __future__ import annotations

import json

import pytest

from core.cli import main

SECRET = "sup3r-s3cret-value"


@pytest.fixture
def firm_db(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LEDGERLINK_USER", "alice")
    monkeypatch.chdir(tmp_path)  # where .env is read
    db = tmp_path / "f.db"
    assert main(["--db", str(db), "init", "--country", "US"]) == 0
    capsys.readouterr()
    return db


@pytest.fixture
def refused(firm_db, capsys, file_digest):
    def check(*fragments: str, args=("status",)) -> str:
        before = file_digest(firm_db)
        code = main(["--db", str(firm_db), *args])
        out, err = capsys.readouterr()
        assert code == 1, (out, err)
        for fragment in fragments:
            assert fragment in err, err
        assert "Traceback" not in out + err and SECRET not in out + err
        assert file_digest(firm_db) == before
        return err

    return check


@pytest.mark.parametrize("var,value,said", [
    ("SYNC__BATCH_SIZE", "99", "Input should be less than or equal to 30 (got '99')"),
    ("SYNC__BATCH_SIZE", "0", "Input should be greater than or equal to 1"),
    ("SYNC__REQUESTS_PER_MINUTE", "100000", "less than or equal to 500"),
    ("SYNC__MAX_CONCURRENT", "-3", "greater than or equal to 1"),
    ("SYNC__BATCHES_PER_MINUTE", "many", "Input should be a valid integer"),
    ("SYNC__DEFAULT_RETRY_AFTER", "0", "greater than 0"),
    ("SYNC__MAX_BACKOFF", "86400", "less than or equal to 3600"),
    ("SYNC__TIME_SCALE", "0", "greater than 0"),
    ("QBO__MINOR_VERSION", "seventy", "valid integer"),
    ("QBO__ENVIRONMENT", "staging", "'production', 'sandbox' or 'local'"),
    ("QBO__REDIRECT_URI", "::::", "must be an http(s) address with a host"),
    ("QBO__REDIRECT_URI", "http://127.0.0.1:99999/cb", "must be an http(s) address"),
    ("QBO__TOKEN_URL", "ftp://example.com/token", "must be an http(s) address"),
    ("QBO__API_BASE", "quickbooks.api.intuit.com", "must be an http(s) address"),
    ("QBO__USERINFO_URL", "http://[::1/userinfo", "must be an http(s) address"),
    ("LEDGER__INVOICE_PREFIX", "INVOICE-NUMBER-", "at most 10 printable characters"),
    ("LEDGER__CREDIT_PREFIX", "C\x1b[2J", "at most 10 printable characters"),
])
def test_a_value_out_of_bounds_names_its_env_var(refused, monkeypatch, var, value, said):
    monkeypatch.setenv("LEDGERLINK_QBO__CLIENT_SECRET", SECRET)
    monkeypatch.setenv(f"LEDGERLINK_{var}", value)
    refused(f"LEDGERLINK_{var} (", "set in the environment", said)


def test_a_misspelt_setting_is_named_with_the_right_one(refused, monkeypatch, tmp_path):
    monkeypatch.setenv("LEDGERLINK_SYNC__BATCHSIZE", "5")
    refused("LEDGERLINK_SYNC__BATCHSIZE", "Ledgerlink has no such setting: did you mean LEDGERLINK_SYNC__BATCH_SIZE?")
    monkeypatch.delenv("LEDGERLINK_SYNC__BATCHSIZE")
    monkeypatch.setenv("LEDGERLINK_SYNC_BATCH_SIZE", "5")  # one underscore: it would be ignored without a word
    refused("LEDGERLINK_SYNC_BATCH_SIZE (set in the environment): Ledgerlink has no such setting: "
            "did you mean LEDGERLINK_SYNC__BATCH_SIZE?")
    monkeypatch.delenv("LEDGERLINK_SYNC_BATCH_SIZE")
    (tmp_path / ".env").write_text("LEDGERLINK_QBO_CLIENT_ID=abc\n")
    refused("LEDGERLINK_QBO_CLIENT_ID (.env line 1)", "did you mean LEDGERLINK_QBO__CLIENT_ID?")


def test_variables_of_other_tools_are_left_alone(firm_db, monkeypatch, capsys):
    monkeypatch.setenv("LEDGERLINK_SOMETHING_ELSE_ENTIRELY", "1")
    assert main(["--db", str(firm_db), "status"]) == 0


def test_a_bad_value_beside_the_client_secret_never_shows_the_secret(refused, monkeypatch, tmp_path):
    monkeypatch.setenv("LEDGERLINK_QBO", json.dumps({"client_secret": SECRET, "minor_version": "x"}))
    refused("LEDGERLINK_QBO__MINOR_VERSION")
    monkeypatch.setenv("LEDGERLINK_QBO", "{not json " + SECRET)
    refused("must be JSON")
    monkeypatch.delenv("LEDGERLINK_QBO")
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.toml").write_text(f'[qbo]\nclient_secret = ["{SECRET}"]\n')
    refused("LEDGERLINK_QBO__CLIENT_SECRET", "config.toml line 2", "Input should be a valid string")


def test_dotenv_lines_are_named_and_its_secret_masked(refused, tmp_path):
    (tmp_path / ".env").write_text(f"LEDGERLINK_QBO__CLIENT_SECRET={SECRET}\nLEDGERLINK_SYNC__BATCH_SIZE=31\n")
    refused("LEDGERLINK_SYNC__BATCH_SIZE (sync.batch_size, .env line 2)")


def test_undecodable_dotenv_bytes_name_the_file_and_line(refused, tmp_path):
    (tmp_path / ".env").write_bytes(b"LEDGERLINK_LEDGER__INVOICE_PREFIX=INV-\nLEDGERLINK_UI__THEME=caf\xe9\n")
    refused(".env line 2: not UTF-8 text (byte 0xE9) - save the file as UTF-8")


def test_broken_toml_names_the_file_and_line(refused, tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.toml").write_text('[sync]\nbatch_size = = 3\n')
    refused("config.toml is not valid TOML", "line 2")
    (tmp_path / "config" / "config.toml").write_bytes(b'[ui]\ntheme = "caf\xe9"\n')
    refused("config.toml line 2: not UTF-8 text")
    (tmp_path / "config" / "config.toml").write_text('[sync]\nbatch_size = 45\n')
    refused("LEDGERLINK_SYNC__BATCH_SIZE (sync.batch_size, ", "config.toml line 2", "less than or equal to 30")


def test_json_output_carries_the_settings_error(refused, monkeypatch, capsys, firm_db):
    monkeypatch.setenv("LEDGERLINK_SYNC__BATCH_SIZE", "99")
    assert main(["--db", str(firm_db), "status", "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is False and "LEDGERLINK_SYNC__BATCH_SIZE" in out["error"]


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_a_sync_from_date_out_of_range_is_refused(refused, day):
    refused(f"The sync-from date {day} is outside the dates Ledgerlink keeps (1900-01-01 to 2199-12-31)",
            args=("sync", "enable", "--from", day))
