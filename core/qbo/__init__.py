"""QuickBooks Online: OAuth and connect, the async client and its limiter and retry policy,
fault parsing, the reference cache, the three maps and the QBO checklist steps.

The TUI and CLI reach this package through core.services.qbo.
"""
