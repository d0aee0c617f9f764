"""A faithful local emulator of the QBO Accounting API v3 and Intuit OAuth 2.0, served over HTTP.

`core.sandbox.testing.running_sandbox` / `start_embedded` run it; `core.sandbox.store.SandboxState`
holds its state; `core.sandbox.app.build_app` is the starlette app.
"""
