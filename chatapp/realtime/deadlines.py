"""When each session with sockets in this process ends, and when they hear of it first.

Polling every session now and then missed short windows: a warning due in
the 2 min - 30 s before a session's end came late or never with a short idle
timeout. Instead each session is due at one moment (its warning, then its
end), kept in a heap, with one loop timer for the earliest: nothing runs for
a session until it is due, and then one store read says what happened
meanwhile (an HTTP request, or another process, may have renewed it).

A due session is checked against the store (`load`):

- gone (expired, or ended where no order reached this process): `expire`;
- renewed since: due again at its new warning;
- otherwise, the first time for this expiry: `warn`, then due at its end.

Time comes from `clock` (the session store's), so tests move it on and call
`run_due` instead of waiting.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from chatapp.times import Clock
from stores.base import SessionRecord

log = logging.getLogger(__name__)

#: `session:expiring` goes out this long before a session's end, or at once when the end
#: is nearer (the contract's window is 2 min to 30 s before it).
WARNING_LEAD = 120.0
#: Seconds before a check that failed (the store is down) is tried again.
RETRY = 5


#: The session as stored now, or None if it is gone.
Load = Callable[[str], Awaitable[SessionRecord | None]]
#: Tell the session's sockets here when it ends; False if it has none here any more.
Warn = Callable[[str, SessionRecord], Awaitable[bool]]
#: End the session's sockets here: it is gone.
Expire = Callable[[str], Awaitable[None]]


@dataclass(slots=True)
class _Watch:
    expires_at: float
    #: The session as it was when its sockets were last warned.
    warned: SessionRecord | None = None
    due: float = 0.0

    @property
    def warned_of_this_end(self) -> bool:
        return self.warned is not None and self.warned.expires_at == self.expires_at


class SessionDeadlines:
    def __init__(self, clock: Clock, *, load: Load, warn: Warn, expire: Expire) -> None:
        self.clock = clock
        self._load, self._warn, self._expire = load, warn, expire
        self._watched: dict[str, _Watch] = {}
        #: (due, session id); an entry whose due differs from its watch's is stale.
        self._heap: list[tuple[float, str]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._running: asyncio.Task[None] | None = None

    def watch(self, session_id: str, expires_at: float) -> None:
        """The session ends at `expires_at` unless renewed: warn its sockets before then.

        Cheap enough for every event: a known expiry that did not move changes nothing.
        """
        watch = self._watched.get(session_id)
        if watch is None:
            watch = self._watched[session_id] = _Watch(expires_at)
        elif expires_at <= watch.expires_at:
            return
        else:
            watch.expires_at = expires_at
        self._schedule(session_id, watch)

    def check_soon(self, session_id: str) -> None:
        """Read the session's expiry from the store soon (a session whose id just changed)."""
        self._watched.pop(session_id, None)
        self.watch(session_id, self.clock())

    def warning_sent(self, session_id: str) -> SessionRecord | None:
        """The session as its sockets were warned of its current end, if they were."""
        watch = self._watched.get(session_id)
        return watch.warned if watch is not None and watch.warned_of_this_end else None

    async def run_due(self) -> None:
        """Check every session that is due by the clock; then wait for the next."""
        now = self.clock()
        due = []
        while self._heap and self._heap[0][0] <= now:
            entry = heapq.heappop(self._heap)
            if not self._is_stale(entry):
                due.append(entry[1])
        for session_id in due:  # what falls due meanwhile waits for the next turn
            watch = self._watched.get(session_id)
            if watch is None:
                continue
            try:
                await self._check(session_id, watch)
            except Exception as exc:  # the store is down: try again a little later
                log.warning("session deadline check failed (%s); again in %d s", exc, RETRY)
                watch.due = self.clock() + RETRY
                heapq.heappush(self._heap, (watch.due, session_id))
        self._arm()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    async def _check(self, session_id: str, watch: _Watch) -> None:
        record = await self._load(session_id)
        if record is None:
            del self._watched[session_id]
            await self._expire(session_id)
            return
        if record.expires_at > watch.expires_at:  # renewed meanwhile (HTTP, another process)
            watch.expires_at = record.expires_at
        elif not watch.warned_of_this_end and self.clock() >= self._warning_at(watch):
            if not await self._warn(session_id, record):
                del self._watched[session_id]  # no socket of it here any more
                return
            watch.warned = record
        self._schedule(session_id, watch)

    def _warning_at(self, watch: _Watch) -> float:
        return watch.expires_at - WARNING_LEAD

    def _schedule(self, session_id: str, watch: _Watch) -> None:
        if watch.warned_of_this_end:
            watch.due = watch.expires_at
        else:
            watch.due = max(self.clock(), self._warning_at(watch))
        heapq.heappush(self._heap, (watch.due, session_id))
        if len(self._heap) > 2 * len(self._watched) + 64:  # renewals leave stale entries
            self._heap = [entry for entry in self._heap if not self._is_stale(entry)]
            heapq.heapify(self._heap)
        if self._heap[0] == (watch.due, session_id):
            self._arm()

    def _arm(self) -> None:
        """One loop timer, for the earliest due session."""
        while self._heap and self._is_stale(self._heap[0]):
            heapq.heappop(self._heap)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._heap:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        delay = max(0.0, self._heap[0][0] - self.clock())
        self._timer = loop.call_later(delay, self._wake)

    def _is_stale(self, entry: tuple[float, str]) -> bool:
        watch = self._watched.get(entry[1])
        return watch is None or watch.due != entry[0]

    def _wake(self) -> None:
        self._timer = None
        if self._running is None or self._running.done():
            self._running = asyncio.get_running_loop().create_task(self.run_due())
