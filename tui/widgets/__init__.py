"""Reusable widgets of the Ledgerlink TUI."""
