"""Rate limits: a token bucket, and one bucket per key (a socket, an address, a user).

A bucket allows a steady rate with room for a burst above it. `Budgets` keeps
a bucket per key, forgetting the least recently used past `max_keys`, so an
attacker inventing keys costs bounded memory (a forgotten key starts full).
Counts live in this process: with several processes each allows its own budget.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict

from chatapp.errors import ApiError
from chatapp.settings import LimitSettings


class TokenBucket:
    __slots__ = ("_tokens", "_updated", "burst", "rate")  # one per connected socket

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._updated = time.monotonic()

    def take(self) -> bool:
        """Spend one token if there is one."""
        return self.wait() == 0

    def wait(self) -> float:
        """Spend one token and return 0, or return the seconds until there is one."""
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        if self._tokens < 1:
            return (1 - self._tokens) / self.rate
        self._tokens -= 1
        return 0.0


class Budgets:
    """A token bucket per key; `spend` answers 429 `rate_limited` when a key's is empty."""

    def __init__(self, what: str, per_minute: float, burst: int, max_keys: int = 100_000) -> None:
        self.what = what
        self.rate = per_minute / 60
        self.burst = burst
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def spend(self, key: str) -> None:
        """One more for `key`, or ApiError 429 with Retry-After."""
        bucket = self._buckets.pop(key, None) or TokenBucket(self.rate, self.burst)
        self._buckets[key] = bucket
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        wait = bucket.wait()
        if wait:
            seconds = max(1, math.ceil(wait))
            raise ApiError(
                429,
                "rate_limited",
                f"too many {self.what}; try again in {seconds} s",
                headers={"Retry-After": str(seconds)},
            )


class WriteLimits:
    """The `[limits]` budgets: per user for writes others see; per address for new
    anonymous sessions (the only thing an anonymous visitor can make us store) and
    new socket connections (a handshake is the costliest thing one can ask)."""

    def __init__(self, limits: LimitSettings) -> None:
        def budget(what: str, per_minute: int) -> Budgets:
            return Budgets(what, per_minute, burst=per_minute)

        self.posts = budget("posts", limits.posts_per_minute)
        self.comments = budget("comments", limits.comments_per_minute)
        self.friend_actions = budget(
            "friend requests and changes", limits.friend_actions_per_minute
        )
        self.messages = budget("messages", limits.messages_per_minute)
        self.anonymous_sessions = budget(
            "new sessions from your address", limits.anonymous_sessions_per_minute
        )
        # A burst of two seconds' worth: a page load opens one connection, and clients
        # refused in a reconnect wave come back after Retry-After, spread by their backoff.
        per_minute = limits.socket_connections_per_minute
        self.socket_connections = Budgets(
            "new connections from your address", per_minute, burst=max(1, per_minute // 30)
        )


class LogOnce:
    """Per key, one log line per `interval`: a flood of refusals must not flood the log.

    `due(key)` says whether to log now, and how many lines of that key were
    left out since the last one (None: leave this one out too).
    """

    def __init__(self, interval: float = 60.0, max_keys: int = 10_000) -> None:
        self.interval = interval
        self.max_keys = max_keys
        self._keys: OrderedDict[str, tuple[float, int]] = OrderedDict()

    def due(self, key: str) -> int | None:
        now = time.monotonic()
        logged, left_out = self._keys.pop(key, (float("-inf"), 0))
        if now - logged < self.interval:
            self._keys[key] = (logged, left_out + 1)
            return None
        self._keys[key] = (now, 0)
        while len(self._keys) > self.max_keys:
            self._keys.popitem(last=False)
        return left_out
