"""The login throttle's counts in Redis: every process sees every failure.

    <prefix>throttle:p:<sha256(username NUL address)>  hash: n (failures in a row),
                                                       last (epoch seconds); 1 day
    <prefix>throttle:a:<address>                       sorted set of failure times
                                                       within the last minute

Wall-clock time (shared by the processes), one pipelined round trip per call.
The username is hashed so that the key names no account.
"""

from __future__ import annotations

import hashlib
import time
import uuid

from redis import asyncio as aioredis

from chatapp.accounts.throttle import ADDRESS_WINDOW, LoginThrottle, wait_for
from chatapp.backends import redis_errors

PAIR_TTL = 24 * 3600


class RedisThrottle(LoginThrottle):
    def __init__(self, client: aioredis.Redis, prefix: str) -> None:
        self.client = client
        self.prefix = prefix + "throttle:"

    def _pair(self, username: str, address: str) -> str:
        digest = hashlib.sha256(f"{username}\0{address}".encode()).hexdigest()
        return f"{self.prefix}p:{digest}"

    def _address(self, address: str) -> str:
        return f"{self.prefix}a:{address}"

    async def retry_after(self, username: str, address: str) -> int:
        now = time.time()
        with redis_errors("login throttle"):
            async with self.client.pipeline(transaction=False) as pipe:
                pipe.hmget(self._pair(username, address), "n", "last")
                pipe.zremrangebyscore(self._address(address), "-inf", now - ADDRESS_WINDOW)
                pipe.zrange(self._address(address), 0, -1, withscores=True)
                (failures, last), _, recent = await pipe.execute()
        times = [score for _, score in recent]
        return wait_for(int(failures or 0), float(last or 0), times, now)

    async def failed(self, username: str, address: str) -> None:
        now = time.time()
        pair, key = self._pair(username, address), self._address(address)
        with redis_errors("login throttle"):
            async with self.client.pipeline(transaction=True) as pipe:
                pipe.hincrby(pair, "n", 1)
                pipe.hset(pair, "last", repr(now))
                pipe.expire(pair, PAIR_TTL)
                pipe.zadd(key, {uuid.uuid4().hex: now})
                pipe.expire(key, int(ADDRESS_WINDOW) + 1)
                await pipe.execute()

    async def succeeded(self, username: str, address: str) -> None:
        with redis_errors("login throttle"):
            await self.client.delete(self._pair(username, address))

    async def close(self) -> None:
        await self.client.aclose()
