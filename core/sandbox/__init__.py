"""A faithful local emulator of the QBO Accounting API v3 and Intuit OAuth 2.0, served over HTTP.

`core.sandbox.served.running_sandbox` / `start_embedded` run it; `core.sandbox.store.SandboxState`
holds its state (companies in `company`, each with its settings and metered-read counter);
`core.sandbox.app.build_app` is the starlette app and `api` its Accounting API. The entity rules are split
by noun: `entities` (dispatch, render), `names`, `sales`, `tax`, `payments`, `trust`, `ledger` (balances),
`common` (shared parsing). Imports run one way: company <- common <- rules <- entities <- seed <- store.
"""
