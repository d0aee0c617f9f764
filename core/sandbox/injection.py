"""Faults and throttles the sandbox injects, set at start-up (SPEC strings) or at run time.

Fault SPEC (comma-separated rules):  KIND[=VALUE]@WHEN[/SCOPE]
  KIND   500 | 503 | 429 | latency (VALUE = seconds) | drop-before | drop-after | expire-token | garbled
  WHEN   a probability 0..1 (`0.05`); `#N` or `#N+#M` (the Nth, Mth matching request, 1-based);
         `next:N` (the next N matching requests); `every:N` (every Nth matching request)
  SCOPE  all (default) | read | write, optionally `:ENTITY` (the URL's first segment after the realm:
         invoice, payment, batch, query, ...), e.g. `write:payment`; or `oauth`: the token endpoint only
         (API rules never fault OAuth endpoints, `oauth` rules never fault the API)
  e.g.   `500@0.1,latency=0.25@1/read,drop-after@#2/write,expire-token@next:1,503@next:2/oauth`
`drop-before` closes the connection before the write happens; `drop-after` commits the write and then
closes the connection without answering (only a `requestid` retry avoids a duplicate).
On the token endpoint (`/oauth`): 500, 503 and 429 answer without issuing anything; `garbled` answers
200 with a body cut short (nothing issued); `drop-before` closes the connection before the grant is used;
`drop-after` issues the new tokens (the refresh token used is then spent, as the rotation setting says)
and closes the connection without answering; `expire-token` does not apply.
Token lifetimes and rotation: `--access-token-lifetime SECONDS` (e.g. 5, 30, 3600) and
`--refresh-rotation always|daily` (always, the default and the stricter: every refresh issues a new
refresh token and the one used is dead at once; daily: as Intuit describes it, a refresh returns the
same refresh token, still valid, until it is 24 hours old); in tests, core.sandbox.oauth.configure sets them at
run time, the rotation per company too (realm=...).

Limits SPEC: comma-separated KEY=VALUE with keys rpm (requests a minute), concurrent, batch-items,
batches-per-minute, window (seconds a "minute" lasts), retry-after (seconds; sends Retry-After).
Defaults are QBO's documented limits: rpm=500,concurrent=10,batch-items=30,batches-per-minute=40,window=60.
`off` removes every limit.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any

KINDS = ("500", "503", "429", "latency", "drop-before", "drop-after", "expire-token", "garbled")
SCOPES = ("all", "read", "write", "oauth")
OAUTH_KINDS = ("500", "503", "429", "latency", "drop-before", "drop-after", "garbled")


class SpecError(ValueError):
    """A SPEC string that cannot be read; the message says which part."""


@dataclass
class FaultRule:
    kind: str
    probability: float | None = None
    at: tuple[int, ...] = ()
    next: int = 0
    every: int = 0
    scope: str = "all"
    value: float = 0.0
    entity: str | None = None
    seen: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise SpecError(f"unknown fault kind {self.kind!r} (one of {', '.join(KINDS)})")
        if ":" in self.scope:
            self.scope, _, entity = self.scope.partition(":")
            self.entity = entity.strip().lower() or None
        if self.scope not in SCOPES:
            raise SpecError(f"unknown scope {self.scope!r} (one of {', '.join(SCOPES)})")
        if self.probability is None and not (self.at or self.next or self.every):
            raise SpecError(f"fault {self.kind!r} needs a probability or a schedule")
        _check_oauth_scope(self)

    def fires(self, is_write: bool, rng: random.Random, entity: str = "") -> bool:
        """Count this request if it matches the scope and say whether the fault fires."""
        if self.scope == "oauth":
            return False
        if self.scope == "read" and is_write or self.scope == "write" and not is_write:
            return False
        if self.entity is not None and entity.lower() != self.entity:
            return False
        self.seen += 1
        if self.at:
            return self.seen in self.at
        if self.next:
            if self.seen <= self.next:
                return True
            return False
        if self.every:
            return self.seen % self.every == 0
        return rng.random() < (self.probability or 0.0)

    def _scheduled(self, rng: random.Random) -> bool:
        if self.at:
            return self.seen in self.at
        if self.next:
            return self.seen <= self.next
        if self.every:
            return self.seen % self.every == 0
        return rng.random() < (self.probability or 0.0)


def _check_oauth_scope(rule: FaultRule) -> None:
    if rule.scope == "oauth" and rule.kind not in OAUTH_KINDS:
        raise SpecError(f"fault {rule.kind!r} does not apply to the token endpoint (/oauth)")
    if rule.kind == "garbled" and rule.scope != "oauth":
        raise SpecError("fault 'garbled' applies to the token endpoint only: write it garbled@WHEN/oauth")
    if rule.scope == "oauth" and rule.entity is not None:
        raise SpecError("the oauth scope takes no :ENTITY")


def oauth_faults(rules: list[FaultRule], rng: random.Random) -> list[FaultRule]:
    """The `oauth` rules that fire for this token request (each counts it)."""
    fired = []
    for rule in rules:
        if rule.scope == "oauth":
            rule.seen += 1
            if rule._scheduled(rng):
                fired.append(rule)
    return fired


def parse_faults(spec: str | None) -> list[FaultRule]:
    rules: list[FaultRule] = []
    for part in (spec or "").split(","):
        part = part.strip()
        if not part:
            continue
        head, sep, when = part.partition("@")
        if not sep:
            raise SpecError(f"{part!r}: expected KIND@WHEN")
        when, _, scope = when.partition("/")
        kind, _, value = head.partition("=")
        kwargs: dict = {"kind": kind.strip(), "scope": scope.strip() or "all"}
        try:
            if value:
                kwargs["value"] = float(value)
            when = when.strip()
            if when.startswith("#"):
                kwargs["at"] = tuple(int(x.strip().lstrip("#")) for x in when.split("+"))
            elif when.startswith("next:"):
                kwargs["next"] = int(when[5:])
            elif when.startswith("every:"):
                kwargs["every"] = int(when[6:])
            else:
                p = float(when)
                if not 0.0 <= p <= 1.0:
                    raise SpecError(f"{part!r}: probability must be between 0 and 1")
                kwargs["probability"] = p
        except ValueError as exc:
            if isinstance(exc, SpecError):
                raise
            raise SpecError(f"{part!r}: {exc}") from exc
        rules.append(FaultRule(**kwargs))
    return rules


@dataclass(frozen=True)
class Limits:
    requests_per_minute: int | None = 500
    max_concurrent: int | None = 10
    batch_items: int | None = 30
    batches_per_minute: int | None = 40
    window: float = 60.0
    retry_after: int | None = None


UNLIMITED = Limits(None, None, None, None)

_LIMIT_KEYS = {
    "rpm": "requests_per_minute",
    "concurrent": "max_concurrent",
    "batch-items": "batch_items",
    "batches-per-minute": "batches_per_minute",
    "window": "window",
    "retry-after": "retry_after",
}


def parse_limits(spec: str | None, base: Limits | None = None) -> Limits:
    limits = base or Limits()
    for part in (spec or "").split(","):
        part = part.strip()
        if not part:
            continue
        if part == "off":
            limits = replace(limits, requests_per_minute=None, max_concurrent=None, batch_items=None,
                             batches_per_minute=None)
            continue
        key, sep, value = part.partition("=")
        if not sep or key.strip() not in _LIMIT_KEYS:
            raise SpecError(f"{part!r}: expected one of {', '.join(_LIMIT_KEYS)} = VALUE, or off")
        name = _LIMIT_KEYS[key.strip()]
        try:
            if name == "window":
                limits = replace(limits, window=float(value))
            else:
                count: dict[str, Any] = {name: None if value.strip() == "none" else int(value)}  # an int field
                limits = replace(limits, **count)
        except ValueError as exc:
            raise SpecError(f"{part!r}: {exc}") from exc
    return limits


class Throttle:
    """One company's request counters: a sliding window a minute long, in-flight requests, batches."""

    def __init__(self) -> None:
        self.requests: deque[float] = deque()
        self.batches: deque[float] = deque()
        self.inflight = 0

    @staticmethod
    def _over(times: deque[float], limit: int | None, now: float, window: float) -> bool:
        while times and times[0] <= now - window:
            times.popleft()
        if limit is not None and len(times) >= limit:
            return True
        times.append(now)
        return False

    def admit(self, limits: Limits, now: float, *, batch_items: int | None) -> bool:
        """Count one request; False when it must be answered with 429."""
        if limits.max_concurrent is not None and self.inflight >= limits.max_concurrent:
            return False
        if self._over(self.requests, limits.requests_per_minute, now, limits.window):
            return False
        if batch_items is not None:
            if limits.batch_items is not None and batch_items > limits.batch_items:
                return False
            if self._over(self.batches, limits.batches_per_minute, now, limits.window):
                return False
        return True
