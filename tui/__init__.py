"""Ledgerlink's Textual terminal app. Reaches core only through core.services."""
