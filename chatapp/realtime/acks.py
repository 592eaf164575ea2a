"""Ordering work after a client event's ack, by construction rather than by a sleep.

ChatServer runs each client event inside `collecting_after_ack()`; work given
to `after_ack` there runs once the event's ack is in the engine.io packet
queue, so the client receives the ack first (e.g. `auth:logout`'s ack, then
`session:ended`). Outside a client event, `after_ack` runs the work at once.
"""

from __future__ import annotations

import contextvars
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

AfterAck = Callable[[], Awaitable[None]]
_pending: contextvars.ContextVar[list[AfterAck] | None] = contextvars.ContextVar(
    "after_ack", default=None
)


async def after_ack(work: AfterAck) -> None:
    """Run `work` after the ack of the client event being handled (or now, outside one)."""
    pending = _pending.get()
    if pending is None:
        await work()
    else:
        pending.append(work)


@asynccontextmanager
async def collecting_after_ack() -> AsyncIterator[None]:
    """Around one client event, its ack included: then runs what `after_ack` collected."""
    pending: list[AfterAck] = []
    token = _pending.set(pending)
    try:
        yield
    finally:
        _pending.reset(token)
    for work in pending:
        await work()
