"""Logging to a rotating file (the TUI owns the terminal). Token-like values are masked; the file and its
rotated copies are readable by their owner only (0600: they hold client names)."""

from __future__ import annotations

import logging
import logging.handlers
import os
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


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A RotatingFileHandler whose every file (the first, and each one opened after a rotation) is 0600."""

    def _open(self):  # type: ignore[no-untyped-def]
        return open(self.baseFilename, self.mode, encoding=self.encoding, errors=self.errors, opener=_private)


def _private(path: str, flags: int) -> int:
    fd = os.open(path, flags, 0o600)
    try:
        os.fchmod(fd, 0o600)  # a file made before this release (0644) is closed up too
    except OSError:
        pass  # another user's file we may write to: keep logging
    return fd


def setup_logging(path: Path, level: int = logging.INFO) -> None:
    root = logging.getLogger()
    if any(getattr(h, "_ledgerlink", False) for h in root.handlers):
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = PrivateRotatingFileHandler(
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
