"""Small helpers for the sentences core shows people."""

from __future__ import annotations


def counted(n: int, singular: str, plural: str | None = None) -> str:
    """`1 invoice`, `2 invoices`, `0 credit notes`; `plural` for nouns that do not just take an s."""
    return f"{n} {singular if n == 1 else plural or singular + 's'}"
