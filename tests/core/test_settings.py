from pathlib import Path

from core.settings import Settings


def test_env_wins_over_toml_and_nested_names(tmp_path, monkeypatch):
    cfg = tmp_path / "config"
    cfg.mkdir()
    (cfg / "config.toml").write_text('db = "/from/toml.db"\n[qbo]\nminor_version = 70\nclient_id = "toml-id"\n')
    monkeypatch.setenv("LEDGERLINK_QBO__CLIENT_ID", "env-id")
    s = Settings(_env_file=None)
    assert s.db == Path("/from/toml.db")
    assert s.qbo.client_id == "env-id"
    assert s.qbo.minor_version == 70


def test_no_client_id_means_local_sandbox():
    s = Settings(_env_file=None)
    assert s.qbo.effective_environment() == "local"
    ep = s.qbo.endpoints(local_base="http://127.0.0.1:5000")
    assert ep.token_url == "http://127.0.0.1:5000/oauth2/v1/tokens/bearer"
    assert ep.api_base == "http://127.0.0.1:5000"


def test_explicit_endpoint_wins_over_preset(monkeypatch):
    monkeypatch.setenv("LEDGERLINK_QBO__ENVIRONMENT", "production")
    monkeypatch.setenv("LEDGERLINK_QBO__TOKEN_URL", "https://emulator.example/token")
    s = Settings(_env_file=None)
    ep = s.qbo.endpoints()
    assert ep.token_url == "https://emulator.example/token"
    assert ep.api_base == "https://quickbooks.api.intuit.com"


def test_client_secret_never_in_repr(monkeypatch):
    monkeypatch.setenv("LEDGERLINK_QBO__CLIENT_SECRET", "s3cr3t-value")
    s = Settings(_env_file=None)
    assert "s3cr3t-value" not in repr(s)
    assert s.qbo.client_secret.get_secret_value() == "s3cr3t-value"
