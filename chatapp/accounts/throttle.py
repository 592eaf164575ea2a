"""Login throttling, as the contract's login row says.

After 10 failures in a row for one username from one address, or 20
failures within a minute from one address, a further attempt from there is
throttled: answered 429 with Retry-After *before its password is checked*,
right or wrong, so a guesser learns nothing and spends no bcrypt time of
ours. A success clears its (username, address) count; sign-ups are not
counted. The username lock is per address, so failures from one address
never lock the user out elsewhere; its length doubles with each further
failure there, from 30 s to at most 15 minutes.

Two backends behind one interface: this process's memory (bounded in size),
and Redis (chatapp.accounts.redis_throttle) whenever a Redis is configured, so
that N processes do not allow N times the guesses.
"""

from __future__ import annotations

import abc
import time
from collections import OrderedDict, deque

USERNAME_FAILURES = 10
ADDRESS_FAILURES = 20
ADDRESS_WINDOW = 60.0
FIRST_LOCKOUT = 30.0
LONGEST_LOCKOUT = 15 * 60.0
MAX_TRACKED = 100_000


def wait_for(failures: int, last: float, recent: list[float], now: float) -> int:
    """Seconds before the next attempt (0: now), from the pair's failures in a row,
    the time of the last, and the address's failure times within the window."""
    wait = 0.0
    if failures >= USERNAME_FAILURES:
        lockout = min(FIRST_LOCKOUT * 2 ** (failures - USERNAME_FAILURES), LONGEST_LOCKOUT)
        wait = last + lockout - now
    if len(recent) >= ADDRESS_FAILURES:
        wait = max(wait, min(recent) + ADDRESS_WINDOW - now)
    return max(0, int(wait + 0.999))


class LoginThrottle(abc.ABC):
    @abc.abstractmethod
    async def retry_after(self, username: str, address: str) -> int:
        """Seconds to wait before this login may be tried; 0 when it may be now."""

    @abc.abstractmethod
    async def failed(self, username: str, address: str) -> None: ...

    @abc.abstractmethod
    async def succeeded(self, username: str, address: str) -> None: ...

    async def close(self) -> None:
        """Release connections, if any."""


class MemoryThrottle(LoginThrottle):
    def __init__(self) -> None:
        # (username, address) -> (failures in a row, time of the last)
        self._pairs: OrderedDict[tuple[str, str], tuple[int, float]] = OrderedDict()
        self._addresses: OrderedDict[str, deque[float]] = OrderedDict()

    async def retry_after(self, username: str, address: str) -> int:
        now = time.monotonic()
        failures, last = self._pairs.get((username, address), (0, 0.0))
        return wait_for(failures, last, list(self._recent(address, now)), now)

    async def failed(self, username: str, address: str) -> None:
        now = time.monotonic()
        failures, _ = self._pairs.pop((username, address), (0, 0.0))
        self._pairs[(username, address)] = (failures + 1, now)
        recent = self._recent(address, now)
        recent.append(now)
        self._addresses[address] = recent
        self._addresses.move_to_end(address)
        while len(self._pairs) > MAX_TRACKED:
            self._pairs.popitem(last=False)
        while len(self._addresses) > MAX_TRACKED:
            self._addresses.popitem(last=False)

    async def succeeded(self, username: str, address: str) -> None:
        self._pairs.pop((username, address), None)

    def _recent(self, address: str, now: float) -> deque[float]:
        recent = self._addresses.get(address, deque())
        while recent and recent[0] <= now - ADDRESS_WINDOW:
            recent.popleft()
        return recent
