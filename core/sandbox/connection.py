"""The connection a sandbox request came in on, so a fault can drop it (used by the API and OAuth handlers)."""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any

# Set per connection by the server's protocol class (core.sandbox.served).
transport_var: contextvars.ContextVar[Any] = contextvars.ContextVar("sandbox_transport", default=None)


class Dropped(Exception):
    """The connection was closed on purpose; nothing is sent."""


async def drop() -> None:
    """Abort the current connection and end the request without an answer."""
    transport = transport_var.get()
    if transport is not None:
        transport.abort()
        await asyncio.sleep(0)  # let the protocol see connection_lost before the app returns
    raise Dropped()
