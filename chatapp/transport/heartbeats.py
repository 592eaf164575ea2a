"""Every socket's next heartbeat, kept in buckets of a fraction of a second, served by one timer.

Why: a loop timer per socket (`call_later`) held a timer handle, its place in
the loop's heap and a bound method: 267 bytes of an idle socket's 3.4 kB, by
tracemalloc. Here a socket is a key in the bucket of the moment it is due
(about 50 bytes), and one loop timer, set for the earliest bucket, serves them
all. A heartbeat comes up to one `tick` late: a tenth of the shortest interval
at most, and never more than a second, well inside what Engine.IO clients
allow (`pingInterval` + `pingTimeout`).
"""

from __future__ import annotations

import asyncio
import logging
import math
from typing import Protocol

log = logging.getLogger(__name__)


class Beating(Protocol):
    def beat(self) -> None:
        """Its time has come (a PING is due, or a PONG is overdue)."""


class Heartbeats:
    __slots__ = ("_buckets", "_timer", "_timer_bucket", "tick")

    def __init__(self, ping_interval: float, ping_timeout: float) -> None:
        self.tick = min(1.0, ping_interval / 10, ping_timeout / 10)
        #: Bucket number (due time / tick, rounded up) -> the sockets due then.
        self._buckets: dict[int, dict[Beating, None]] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._timer_bucket = 0

    def __len__(self) -> int:
        return sum(map(len, self._buckets.values()))

    def due_in(self, seconds: float, socket: Beating) -> int:
        """`socket.beat()` in `seconds` (up to a tick later); the number to `cancel` it by."""
        loop = asyncio.get_running_loop()
        bucket = math.ceil((loop.time() + seconds) / self.tick)
        self._buckets.setdefault(bucket, {})[socket] = None
        if self._timer is None or bucket < self._timer_bucket:
            self._set_timer(loop, bucket)
        return bucket

    def cancel(self, bucket: int, socket: Beating) -> None:
        sockets = self._buckets.get(bucket)
        if sockets is None or socket not in sockets:
            return
        del sockets[socket]
        if not sockets:
            del self._buckets[bucket]
            if not self._buckets and self._timer is not None:
                self._timer.cancel()
                self._timer = None

    def _set_timer(self, loop: asyncio.AbstractEventLoop, bucket: int) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer_bucket = bucket
        self._timer = loop.call_at(bucket * self.tick, self._beat)

    def _beat(self) -> None:
        loop = asyncio.get_running_loop()
        # The loop may run a timer a hair before its time: its bucket is due regardless.
        due = max(self._timer_bucket, math.floor(loop.time() / self.tick))
        for bucket in sorted(b for b in self._buckets if b <= due):
            for socket in self._buckets.pop(bucket):
                try:
                    socket.beat()
                except Exception:  # one socket's fault is not the others'
                    log.exception("a socket's heartbeat failed")
        # Beats set new ones meanwhile (and may have set the timer): the earliest decides.
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._buckets:
            self._set_timer(loop, min(self._buckets))
