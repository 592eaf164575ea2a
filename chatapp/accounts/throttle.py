"""Login throttling: only failures count, per username and per client address.

After 5 failures in a row for a username (30 s, doubling with each further
failure, at most 15 minutes), or 20 failures within a minute from an
address, a further failure is answered 429 with Retry-After instead of 401.
A correct password always logs in and clears its username's count: the
contract throttles failures only, so a guesser is slowed by bcrypt's cost
and told to back off, never locked into a denial of service for the real
user. Kept in this process's
memory, bounded in size: with several processes each keeps its own count, so
an attacker spread over them gets at most that many times the budget.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque

USERNAME_FAILURES = 5
ADDRESS_FAILURES = 20
ADDRESS_WINDOW = 60.0
FIRST_LOCKOUT = 30.0
LONGEST_LOCKOUT = 15 * 60.0
MAX_TRACKED = 100_000


class LoginThrottle:
    def __init__(self) -> None:
        # username -> (failures in a row, time of the last)
        self._usernames: OrderedDict[str, tuple[int, float]] = OrderedDict()
        self._addresses: OrderedDict[str, deque[float]] = OrderedDict()

    def retry_after(self, username: str, address: str) -> int:
        """Seconds to wait before this login may be tried; 0 when it may be now."""
        now = time.monotonic()
        wait = 0.0
        failures, last = self._usernames.get(username, (0, 0.0))
        if failures >= USERNAME_FAILURES:
            lockout = min(FIRST_LOCKOUT * 2 ** (failures - USERNAME_FAILURES), LONGEST_LOCKOUT)
            wait = max(wait, last + lockout - now)
        recent = self._recent(address, now)
        if len(recent) >= ADDRESS_FAILURES:
            wait = max(wait, recent[0] + ADDRESS_WINDOW - now)
        return max(0, int(wait + 0.999))

    def failed(self, username: str, address: str) -> None:
        now = time.monotonic()
        failures, _ = self._usernames.pop(username, (0, 0.0))
        self._usernames[username] = (failures + 1, now)
        recent = self._recent(address, now)
        recent.append(now)
        self._addresses[address] = recent
        self._addresses.move_to_end(address)
        for table in (self._usernames, self._addresses):
            while len(table) > MAX_TRACKED:
                table.popitem(last=False)

    def succeeded(self, username: str) -> None:
        self._usernames.pop(username, None)

    def _recent(self, address: str, now: float) -> deque[float]:
        recent = self._addresses.get(address, deque())
        while recent and recent[0] <= now - ADDRESS_WINDOW:
            recent.popleft()
        return recent
