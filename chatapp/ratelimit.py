"""Rate limits: a token bucket per socket, and budgets per user or address.

A bucket (a socket's events: the socket lives in one process) allows a steady
rate with room for a burst above it. `Budgets` (what a user or an address may
write per minute) count with the `limits` library: in Redis when the app has
one (the session store's, else the message queue's), so a limit holds across
every process, else in this process's memory (which `limits` expires).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict

import redis.asyncio as aioredis
from limits import RateLimitItem, RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter

from chatapp.backends import redis_errors
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
    """Per key, at most so many in any moving window (the `limits` library's moving
    window), counted where `limiter` keeps counts: this process's memory, or Redis
    shared by every process. `spend` answers 429 `rate_limited` past a limit."""

    def __init__(self, limiter: MovingWindowRateLimiter, what: str, *items: RateLimitItem):
        self.limiter = limiter
        self.what = what
        self.items = items

    async def spend(self, key: str) -> None:
        """One more for `key`, or ApiError 429 with Retry-After (503 if Redis is away)."""
        with redis_errors("rate limits"):
            for item in self.items:
                if not await self.limiter.hit(item, self.what, key):
                    stats = await self.limiter.get_window_stats(item, self.what, key)
                    seconds = max(1, math.ceil(stats.reset_time - time.time()))
                    raise ApiError(
                        429,
                        "rate_limited",
                        f"too many {self.what}; try again in {seconds} s",
                        headers={"Retry-After": str(seconds)},
                    )


def counting_in(redis: aioredis.Redis | None, prefix: str = "chatapp:") -> MovingWindowRateLimiter:
    """A moving-window limiter counting in this Redis (every process sees every count),
    or with None in this process's memory."""
    if redis is None:
        return MovingWindowRateLimiter(MemoryStorage())
    storage = RedisStorage(
        "async+redis://",  # the client's own pool is used: its URL, Sentinel and timeouts
        implementation="redispy",
        key_prefix=f"{prefix}limits",
        connection_pool=redis.connection_pool,  # type: ignore[arg-type]  # it takes one
    )
    return MovingWindowRateLimiter(storage)


class WriteLimits:
    """The `[limits]` budgets: per user for writes others see; per address for new
    anonymous sessions (the only thing an anonymous visitor can make us store) and
    new socket connections (a handshake is the costliest thing one can ask)."""

    def __init__(self, limits: LimitSettings, limiter: MovingWindowRateLimiter) -> None:
        def budget(what: str, per_minute: int) -> Budgets:
            return Budgets(limiter, what, RateLimitItemPerMinute(per_minute))

        self.posts = budget("posts", limits.posts_per_minute)
        self.comments = budget("comments", limits.comments_per_minute)
        self.friend_actions = budget(
            "friend requests and changes", limits.friend_actions_per_minute
        )
        self.messages = budget("messages", limits.messages_per_minute)
        self.anonymous_sessions = budget(
            "new sessions from your address", limits.anonymous_sessions_per_minute
        )
        # At most two seconds' worth at once: a page load opens one connection, and clients
        # refused in a reconnect wave come back after Retry-After, spread by their backoff.
        per_minute = limits.socket_connections_per_minute
        self.socket_connections = Budgets(
            limiter,
            "new connections from your address",
            RateLimitItemPerSecond(max(1, per_minute // 30), 2),
            RateLimitItemPerMinute(per_minute),
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
