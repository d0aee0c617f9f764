"""Ledgerlink core: ledger, QBO client and sync, local QBO sandbox. Never imports the TUI."""

__version__ = "0.1.0"
