"""Rate limits: a token bucket per socket, and budgets per user or address.

A bucket (a socket's events: the socket lives in one process) allows a steady
rate with room for a burst above it. `Budgets` (what a user or an address may
write per minute) count in Redis with the `limits` library when the app has
one (the session store's, else the message queue's), so a limit holds across
every process; else with a token bucket per key in this process.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

import redis.asyncio as aioredis
from limits import RateLimitItem, RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.aio.storage import RedisStorage
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


class Budgets(Protocol):
    async def spend(self, key: str) -> None:
        """One more for `key`, or ApiError 429 `rate_limited` with Retry-After."""


def refusal(what: str, wait: float) -> ApiError:
    seconds = max(1, math.ceil(wait))
    return ApiError(
        429,
        "rate_limited",
        f"too many {what}; try again in {seconds} s",
        headers={"Retry-After": str(seconds)},
    )


class LocalBudgets:
    """A token bucket per key, in this process: for one process, where nothing need be
    shared (the `limits` library's memory storage hops to a thread per key and hit)."""

    def __init__(self, what: str, per_minute: float, burst: int, max_keys: int = 100_000) -> None:
        self.what = what
        self.rate = per_minute / 60
        self.burst = burst
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    async def spend(self, key: str) -> None:
        bucket = self._buckets.pop(key, None) or TokenBucket(self.rate, self.burst)
        self._buckets[key] = bucket
        while len(self._buckets) > self.max_keys:  # the least recently used go first
            self._buckets.popitem(last=False)
        wait = bucket.wait()
        if wait:
            raise refusal(self.what, wait)


class SharedBudgets:
    """Per key, at most `per_minute` in any moving minute and `burst` in any two seconds
    (the `limits` library's moving window), counted in Redis: every process sees every
    count, so a limit holds however many processes serve. Redis away: 503."""

    def __init__(
        self, limiter: MovingWindowRateLimiter, what: str, per_minute: int, burst: int
    ) -> None:
        self.limiter = limiter
        self.what = what
        self.items: list[RateLimitItem] = [RateLimitItemPerMinute(per_minute)]
        if burst < per_minute:
            self.items.insert(0, RateLimitItemPerSecond(burst, 2))

    async def spend(self, key: str) -> None:
        with redis_errors("rate limits"):
            for item in self.items:
                if not await self.limiter.hit(item, self.what, key):
                    stats = await self.limiter.get_window_stats(item, self.what, key)
                    raise refusal(self.what, stats.reset_time - time.time())


#: Makes the budget of one kind of write: what, per minute, at most at once.
BudgetMaker = Callable[[str, int, int], Budgets]


def budgets_in(redis: aioredis.Redis | None, prefix: str = "chatapp:") -> BudgetMaker:
    """Budgets counted in this Redis (shared by every process), or with None in memory."""
    if redis is None:
        return LocalBudgets
    storage = RedisStorage(
        "async+redis://",  # the client's own pool is used: its URL, Sentinel and timeouts
        implementation="redispy",
        key_prefix=f"{prefix}limits",
        connection_pool=redis.connection_pool,  # type: ignore[arg-type]  # it takes one
    )
    limiter = MovingWindowRateLimiter(storage)
    return lambda what, per_minute, burst: SharedBudgets(limiter, what, per_minute, burst)


class WriteLimits:
    """The `[limits]` budgets: per user for writes others see; per address for new
    anonymous sessions (the only thing an anonymous visitor can make us store) and
    new socket connections (a handshake is the costliest thing one can ask)."""

    def __init__(self, limits: LimitSettings, budget: BudgetMaker) -> None:
        self.posts = budget("posts", limits.posts_per_minute, limits.posts_per_minute)
        self.comments = budget("comments", limits.comments_per_minute, limits.comments_per_minute)
        actions = limits.friend_actions_per_minute
        self.friend_actions = budget("friend requests and changes", actions, actions)
        self.messages = budget("messages", limits.messages_per_minute, limits.messages_per_minute)
        sessions = limits.anonymous_sessions_per_minute
        self.anonymous_sessions = budget("new sessions from your address", sessions, sessions)
        # A burst of two seconds' worth: a page load opens one connection, and clients
        # refused in a reconnect wave come back after Retry-After, spread by their backoff.
        connections = limits.socket_connections_per_minute
        self.socket_connections = budget(
            "new connections from your address", connections, max(1, connections // 30)
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
