"""What a sync run tells its caller: progress events, the differences it found, and the summary."""

from __future__ import annotations

from dataclasses import dataclass

from core.qbo.sync_store import QueueCounts


@dataclass(frozen=True)
class TotalDifference:
    doc_type: str
    doc_id: int
    label: str
    ledger_minor: int
    qbo_minor: int
    currency: str

    def as_json(self) -> dict:
        return {"doc_type": self.doc_type, "doc_id": self.doc_id, "label": self.label,
                "ledger_minor": self.ledger_minor, "qbo_minor": self.qbo_minor, "currency": self.currency}


@dataclass(frozen=True)
class Progress:
    """One progress event; each replaces the previous one on screen."""

    phase: str
    counts: QueueCounts
    sent: int
    total: int
    current: str | None
    docs_per_minute: float
    requests: int
    limiter: object | None = None
    message: str = ""


@dataclass(frozen=True)
class SyncSummary:
    pushed: int
    parked: int
    waiting: int
    skipped: int
    requests: int
    seconds: float
    differences: tuple[TotalDifference, ...] = ()
    stopped: str | None = None
    message: str = ""
    counts: QueueCounts = QueueCounts()
    writes: int = 0  # QBO writes answered (batch items count one each)

    @property
    def ok(self) -> bool:
        return self.stopped is None and self.counts.parked == 0 and not self.differences

    @property
    def docs_per_minute(self) -> float:
        return self.pushed * 60.0 / self.seconds if self.seconds > 0 else 0.0

    def as_json(self) -> dict:
        return {
            "ok": self.ok, "pushed": self.pushed, "parked": self.parked, "waiting": self.waiting,
            "skipped": self.skipped, "requests": self.requests, "writes": self.writes,
            "seconds": round(self.seconds, 3),
            "stopped": self.stopped, "message": self.message, "queue": self.counts.as_json(),
            "differences": [d.as_json() for d in self.differences],
        }
