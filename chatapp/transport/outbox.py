"""Frames written to sockets during one pass of the event loop leave together.

Why: a post reaches each friend as two packets (`feed:post`, then its
`notification`), pushed one after the other in the same pass of the loop. Sent
as written, each packet is a `send()` system call per recipient, and that call
was half the CPU of a fan-out. Held until the pass ends, a socket's frames go
out joined in one `send()`, in the order they were written; a lone ack or ping
leaves at the same moment as before, one pass of the loop later at most.
"""

from __future__ import annotations

import asyncio
from typing import Protocol


class Flushable(Protocol):
    def flush(self) -> None: ...


class Outbox:
    """The sockets holding frames to send, and the one loop callback that sends them."""

    __slots__ = ("_holding",)

    def __init__(self) -> None:
        self._holding: list[Flushable] = []

    def hold(self, socket: Flushable) -> None:
        """`socket` has frames to send: flush it when this pass of the loop ends."""
        if not self._holding:
            asyncio.get_running_loop().call_soon(self._flush_all)
        self._holding.append(socket)

    def _flush_all(self) -> None:
        holding, self._holding = self._holding, []
        for socket in holding:
            socket.flush()
