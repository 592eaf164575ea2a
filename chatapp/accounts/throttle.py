"""Login throttling, as the contract's login row says.

After 10 failures in a row for one username from one address, or 20
failures within a minute from one address, a further attempt from there is
throttled: answered 429 with Retry-After *before its password is checked*,
right or wrong, so a guesser learns nothing and spends no bcrypt time of
ours. A success clears its (username, address) count; sign-ups are not
counted. The username lock is per address, so failures from one address
never lock the user out elsewhere; its length doubles with each further
failure there, from 30 s to at most 15 minutes.

Kept in this process's memory, bounded in size: with several processes each
keeps its own counts (issue: counts in Redis when one is configured).
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque

USERNAME_FAILURES = 10
ADDRESS_FAILURES = 20
ADDRESS_WINDOW = 60.0
FIRST_LOCKOUT = 30.0
LONGEST_LOCKOUT = 15 * 60.0
MAX_TRACKED = 100_000


class LoginThrottle:
    def __init__(self) -> None:
        # (username, address) -> (failures in a row, time of the last)
        self._pairs: OrderedDict[tuple[str, str], tuple[int, float]] = OrderedDict()
        self._addresses: OrderedDict[str, deque[float]] = OrderedDict()

    def retry_after(self, username: str, address: str) -> int:
        """Seconds to wait before this login may be tried; 0 when it may be now."""
        now = time.monotonic()
        wait = 0.0
        failures, last = self._pairs.get((username, address), (0, 0.0))
        if failures >= USERNAME_FAILURES:
            lockout = min(FIRST_LOCKOUT * 2 ** (failures - USERNAME_FAILURES), LONGEST_LOCKOUT)
            wait = last + lockout - now
        recent = self._recent(address, now)
        if len(recent) >= ADDRESS_FAILURES:
            wait = max(wait, recent[0] + ADDRESS_WINDOW - now)
        return max(0, int(wait + 0.999))

    def failed(self, username: str, address: str) -> None:
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

    def succeeded(self, username: str, address: str) -> None:
        self._pairs.pop((username, address), None)

    def _recent(self, address: str, now: float) -> deque[float]:
        recent = self._addresses.get(address, deque())
        while recent and recent[0] <= now - ADDRESS_WINDOW:
            recent.popleft()
        return recent
