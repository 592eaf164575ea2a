"""What /healthz reports, at once, whatever the backing servers do.

A backend that refuses connections fails a ping in a millisecond; one that
black-holes them (a dead host, a partition) fails it only at its timeout.
A health check that waits for that answers a load balancer in seconds, and
every probe adds one more stuck ping. So each backing part has a `Probe`:
at most one ping in flight, started by a check that finds none; a check
waits for it only `WAIT` (a refusal or a local answer is in by then), and
a ping still unanswered after `SLOW` counts as a failure ("not answering")
before it times out. A part's change of state is logged once, not every
check.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from chatapp.errors import ServiceUnavailable
from stores.errors import StoreUnavailable

log = logging.getLogger(__name__)

#: How long a check waits for the ping it started: a local backend answers well within.
WAIT = 0.05
#: A ping unanswered for longer than this makes its part fail, timed out or not.
SLOW = 1.0
#: A ping's own bound, whatever the backend's client timeouts.
LIMIT = 3.0


@dataclass
class Probe:
    """One backing part: its name in the report, how to ping it, and its setting."""

    part: str
    ping: Callable[[], Awaitable[None]]
    where: str
    _failure: str | None = None
    _pending: asyncio.Task[None] | None = None
    _started: float = 0.0

    async def failure(self) -> str | None:
        """Why the part fails now, or None when it answers."""
        if self._pending is None:
            self._started = time.monotonic()
            self._pending = asyncio.ensure_future(self._probe())
        if self._pending is not None:
            await asyncio.wait({self._pending}, timeout=WAIT)
        if self._pending is not None and time.monotonic() - self._started > SLOW:
            waited = time.monotonic() - self._started
            return self._describe(f"not answering for {waited:.1f} s")
        return self._failure

    def cancel(self) -> None:
        if self._pending is not None:
            self._pending.cancel()

    async def _probe(self) -> None:
        failure = None
        try:
            await asyncio.wait_for(self.ping(), timeout=LIMIT)
        except (StoreUnavailable, ServiceUnavailable, TimeoutError) as exc:
            failure = self._describe(str(exc) or "timed out")
        finally:
            self._pending = None
        if failure and not self._failure:
            log.warning("healthz: %s", failure)
        elif self._failure and not failure:
            log.info("healthz: %s answers again", self.part.replace("_", " "))
        self._failure = failure

    def _describe(self, problem: str) -> str:
        return f"{self.part.replace('_', ' ')} ({self.where}) is unavailable: {problem}"


class Health:
    """The probes of every backing part this process uses."""

    def __init__(self, probes: list[Probe]) -> None:
        self.probes = probes

    async def report(self) -> dict[str, str]:
        """The failing parts, each with why (empty when all answer)."""
        failures = await asyncio.gather(*(probe.failure() for probe in self.probes))
        return {p.part: f for p, f in zip(self.probes, failures, strict=True) if f}

    def close(self) -> None:
        for probe in self.probes:
            probe.cancel()
