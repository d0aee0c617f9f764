"""Logging to a rotating file (the TUI owns the terminal). Token-like values are masked."""

from __future__ import annotations

import logging
import logging.handlers
import re
from pathlib import Path

_SECRET = re.compile(
    r"(?i)((?:access_token|refresh_token|client_secret|id_token|code|authorization)[\"']?\s*[:=]\s*[\"']?(?:Bearer |Basic )?)[^\s\"'&,}]+"
)


def redact(text: str) -> str:
    return _SECRET.sub(r"\1***", text)


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = ()
        return True


def setup_logging(path: Path, level: int = logging.INFO) -> None:
    root = logging.getLogger()
    if any(getattr(h, "_ledgerlink", False) for h in root.handlers):
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=2_000_000, backupCount=3, encoding="utf-8"
        )
    except OSError:
        handler = logging.NullHandler()
    handler._ledgerlink = True  # type: ignore[attr-defined]
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
