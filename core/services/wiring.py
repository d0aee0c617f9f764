"""Where the layers meet: what core.qbo needs from below it without importing it (the built-in sandbox)."""

from __future__ import annotations

from pathlib import Path

from core.qbo import embedded


def _start_local_sandbox(path: Path):
    from core.sandbox.served import start_embedded

    return start_embedded(path)


embedded.use_local_sandbox(_start_local_sandbox)
