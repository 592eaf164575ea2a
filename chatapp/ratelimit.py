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
    """The `[limits]` budgets: per user for writes others see, per address for new
    anonymous sessions (the only thing an anonymous visitor can make us store)."""

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
