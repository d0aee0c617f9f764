"""How many requests a second the local QBO sandbox sustains on loopback, unthrottled.

    .venv/bin/python bench/sandbox.py [--seconds 3] [--clients 4]

Each phase runs `--clients` threads, each with its own keep-alive httpx client, for `--seconds`.
The baseline is the discovery document (no auth, no state) served by the same server in the same run;
every other phase is reported as requests/s and as a ratio to that baseline.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.sandbox.served import running_sandbox  # noqa: E402


def _tokens(sb) -> tuple[str, str]:
    redirect = sb.approve(sb.authorize_url(scope="com.intuit.quickbooks.accounting"), realm_id=sb.realm_ids["US"])
    q = {k: v[0] for k, v in parse_qs(urlsplit(redirect).query).items()}
    r = httpx.post(sb.base_url + "/oauth2/v1/tokens/bearer",
                   data={"grant_type": "authorization_code", "code": q["code"], "redirect_uri": sb.redirect_uri},
                   auth=(sb.client_id, sb.client_secret))
    return r.json()["access_token"], q["realmId"]


def _phase(name, make_request, seconds: float, clients: int) -> float:
    counts = [0] * clients
    errors: list[str] = []
    stop = time.perf_counter() + seconds

    def worker(i: int) -> None:
        with httpx.Client(timeout=30) as http:
            while time.perf_counter() < stop:
                r = make_request(http)
                if r.status_code != 200:
                    errors.append(f"{name}: {r.status_code} {r.text[:200]}")
                    return
                counts[i] += 1

    start = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise SystemExit(errors[0])
    return sum(counts) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, running_sandbox(Path(tmp) / "bench.db", limits="off") as sb:
        token, realm = _tokens(sb)
        api = f"{sb.base_url}/v3/company/{realm}"
        headers = {"Authorization": "Bearer " + token, "Accept": "application/json"}
        customer = httpx.post(api + "/customer", json={"DisplayName": "Bench Client"}, headers=headers).json()["Customer"]
        invoice_body = {"CustomerRef": {"value": customer["Id"]}, "Line": [
            {"Amount": 100, "DetailType": "SalesItemLineDetail",
             "SalesItemLineDetail": {"ItemRef": {"value": "2"}, "TaxCodeRef": {"value": "TAX"}}}]}
        invoice = httpx.post(api + "/invoice", json=invoice_body, headers=headers).json()["Invoice"]
        phases = {
            "baseline: discovery GET": lambda h: h.get(sb.discovery_url),
            "read: invoice by id": lambda h: h.get(f"{api}/invoice/{invoice['Id']}", headers=headers),
            "read: query 10 customers": lambda h: h.get(api + "/query", headers=headers,
                                                        params={"query": "select * from Customer MAXRESULTS 10"}),
            "write: create customer": lambda h: h.post(api + "/customer", headers=headers,
                                                      json={"DisplayName": "Bench " + uuid.uuid4().hex}),
            "write: create taxed invoice": lambda h: h.post(api + "/invoice", json=invoice_body, headers=headers),
            "write: invoice + requestid": lambda h: h.post(api + "/invoice", json=invoice_body, headers=headers,
                                                          params={"requestid": uuid.uuid4().hex}),
        }
        results = {name: _phase(name, fn, args.seconds, args.clients) for name, fn in phases.items()}
    base = results["baseline: discovery GET"]
    print(f"{'phase':<30} {'req/s':>8} {'ratio':>6}")
    for name, rate in results.items():
        print(f"{name:<30} {rate:8.0f} {rate / base:6.2f}")


if __name__ == "__main__":
    main()
