"""The sandbox in a process of its own (`sandbox_process`), as the sync benchmark runs it."""

from __future__ import annotations

import os

import httpx

from core.sandbox.served import sandbox_process

from tests.sandbox.conftest import connect


def test_a_client_connects_and_writes_to_a_sandbox_in_another_process(tmp_path):
    with sandbox_process(tmp_path / "sb.db", companies=["UK"], limits="off") as sb:
        assert list(sb.realm_ids) == ["UK"] and sb.base_url.startswith("http://127.0.0.1:")
        tokens = connect(sb, "UK")
        api = f"{sb.base_url}/v3/company/{tokens['realmId']}"
        headers = {"Authorization": "Bearer " + tokens["access_token"], "Accept": "application/json"}
        made = httpx.post(api + "/customer", json={"DisplayName": "Mrs Far Away"}, headers=headers)
        assert made.status_code == 200, made.text
        found = httpx.get(api + "/query", params={"query": "select count(*) from Customer where "
                                                  "DisplayName = 'Mrs Far Away'"}, headers=headers)
        assert found.json()["QueryResponse"]["totalCount"] == 1
        process = sb._proc
        assert process is not None and process.pid != os.getpid()
    assert process.returncode == 0  # stopped cleanly (SIGTERM) when the block ends


def test_faults_given_at_start_apply_in_the_other_process(tmp_path):
    with sandbox_process(tmp_path / "sb.db", companies=["US"], faults="503@1/read:companyinfo") as sb:
        tokens = connect(sb, "US")
        r = httpx.get(f"{sb.base_url}/v3/company/{tokens['realmId']}/companyinfo/{tokens['realmId']}",
                      headers={"Authorization": "Bearer " + tokens["access_token"], "Accept": "application/json"})
        assert r.status_code == 503


def test_company_settings_given_on_the_command_line_apply(tmp_path):
    with sandbox_process(tmp_path / "sb.db", companies=["US", "CA"],
                         company_settings=["CA:sparse_line=replace", "multicurrency=on"]) as sb:
        for cc, expected in (("US", True), ("CA", True)):
            tokens = connect(sb, cc)
            prefs = httpx.get(f"{sb.base_url}/v3/company/{tokens['realmId']}/preferences",
                              headers={"Authorization": "Bearer " + tokens["access_token"], "Accept": "application/json"})
            assert prefs.json()["Preferences"]["CurrencyPrefs"]["MultiCurrencyEnabled"] is expected
    from core.sandbox.store import SandboxState

    state = SandboxState(tmp_path / "sb.db", companies=())
    try:
        by_country = {s["country"]: s["settings"] for s in state.summary()}
        assert by_country["CA"]["sparse_line"] == "replace" and by_country["US"]["sparse_line"] == "refuse"
    finally:
        state.close()
