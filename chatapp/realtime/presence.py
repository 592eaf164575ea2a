"""Who is online: sockets counted per user, across every process.

Presence is per user, not per socket: a user comes online with their first
socket anywhere and goes offline with their last, whatever tab or process
those sockets live in. One process counts in memory (`LocalPresence`);
several count in Redis (`RedisPresence`), where each process also keeps a
heartbeat, so the sockets of a process that crashed stop counting once its
heartbeat is older than `dead_after`; the first process to notice reaps them
and announces who went offline.
"""

from __future__ import annotations

import abc
import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable

import redis.asyncio as aioredis

from chatapp.backends import redis_errors
from chatapp.errors import ServiceUnavailable

log = logging.getLogger(__name__)

#: Told the id of each user whose last socket vanished with a dead process.
OfflineHook = Callable[[str], Awaitable[None]]


class Presence(abc.ABC):
    @abc.abstractmethod
    async def joined(self, user_id: str) -> bool:
        """Count one more socket of this user; True if it is the user's first anywhere."""

    @abc.abstractmethod
    async def left(self, user_id: str) -> bool:
        """Count one socket less; True if it was the user's last anywhere."""

    @abc.abstractmethod
    async def count(self, user_id: str) -> int:
        """The user's sockets in every live process."""

    async def online(self, user_ids: Iterable[str]) -> set[str]:
        """Those of the users with a socket in some live process."""
        return {user_id for user_id in user_ids if await self.count(user_id) > 0}

    async def start(self, on_offline: OfflineHook) -> None:
        """Begin the heartbeat and reaping, where there are several processes."""

    async def ping(self) -> None:
        """Return if the server behind the counts answers; raise otherwise."""

    async def stop(self) -> None:
        """Stop; this process's sockets no longer count."""


class LocalPresence(Presence):
    def __init__(self) -> None:
        self._counts: dict[str, int] = {}

    async def joined(self, user_id: str) -> bool:
        self._counts[user_id] = self._counts.get(user_id, 0) + 1
        return self._counts[user_id] == 1

    async def left(self, user_id: str) -> bool:
        remaining = self._counts.get(user_id, 0) - 1
        if remaining > 0:
            self._counts[user_id] = remaining
            return False
        self._counts.pop(user_id, None)  # prune, as python-socketio prunes empty rooms
        return True

    async def count(self, user_id: str) -> int:
        return self._counts.get(user_id, 0)


# The live total of a user's sockets: the counts of hosts whose heartbeat is fresh.
_LIVE_TOTAL = """
local function live_total(presence_key, hosts_key, oldest)
  local total = 0
  local fields = redis.call('HGETALL', presence_key)
  for i = 1, #fields, 2 do
    if string.sub(fields[i], 1, 2) == 'h:' then
      local beat = redis.call('ZSCORE', hosts_key, string.sub(fields[i], 3))
      if beat and tonumber(beat) >= oldest then total = total + tonumber(fields[i + 1]) end
    end
  end
  return total
end
"""

# KEYS: presence hash, hosts zset, this host's user set; ARGV: host, oldest ms, user id
_JOIN = (
    _LIVE_TOTAL
    + """
redis.call('HINCRBY', KEYS[1], 'h:' .. ARGV[1], 1)
redis.call('SADD', KEYS[3], ARGV[3])
return live_total(KEYS[1], KEYS[2], tonumber(ARGV[2]))
"""
)

# KEYS: presence hash, hosts zset, this host's user set; ARGV: host, oldest ms, user id
_LEAVE = (
    _LIVE_TOTAL
    + """
local left = redis.call('HINCRBY', KEYS[1], 'h:' .. ARGV[1], -1)
if left <= 0 then
  redis.call('HDEL', KEYS[1], 'h:' .. ARGV[1])
  redis.call('SREM', KEYS[3], ARGV[3])
end
return live_total(KEYS[1], KEYS[2], tonumber(ARGV[2]))
"""
)

# KEYS: presence hash, hosts zset; ARGV: oldest ms
_COUNT = (
    _LIVE_TOTAL
    + """
return live_total(KEYS[1], KEYS[2], tonumber(ARGV[1]))
"""
)

# KEYS: hosts zset; ARGV: oldest ms, key prefix. Claims each dead host (ZREM answers 1
# to one process only), drops its counts, returns the id of each user now offline.
# (Redis deletes a hash whose last field goes: no empty entry is left behind.)
_REAP = (
    _LIVE_TOTAL
    + """
local offline = {}
for _, host in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])) do
  if redis.call('ZREM', KEYS[1], host) == 1 then
    local users_key = ARGV[2] .. 'host-users:' .. host
    for _, user_id in ipairs(redis.call('SMEMBERS', users_key)) do
      local presence_key = ARGV[2] .. 'presence:' .. user_id
      redis.call('HDEL', presence_key, 'h:' .. host)
      if live_total(presence_key, KEYS[1], tonumber(ARGV[1])) == 0 then
        offline[#offline + 1] = user_id
      end
    end
    redis.call('DEL', users_key)
  end
end
return offline
"""
)


class RedisPresence(Presence):
    """Counts in Redis, shared by every process on the same message queue."""

    def __init__(
        self,
        client: aioredis.Redis,
        *,
        prefix: str = "chatapp:",
        heartbeat: float = 5.0,
        dead_after: float = 15.0,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.heartbeat = heartbeat
        self.dead_after = dead_after
        self.host = uuid.uuid4().hex
        self._hosts_key = prefix + "hosts"
        self._users_key = f"{prefix}host-users:{self.host}"
        self._join = client.register_script(_JOIN)
        self._leave = client.register_script(_LEAVE)
        self._count = client.register_script(_COUNT)
        self._reap = client.register_script(_REAP)
        self._task: asyncio.Task[None] | None = None

    async def joined(self, user_id: str) -> bool:
        with redis_errors("presence"):
            total = await self._join(
                keys=[self._key(user_id), self._hosts_key, self._users_key],
                args=[self.host, self._oldest(), user_id],
            )
        return int(total) == 1

    async def left(self, user_id: str) -> bool:
        with redis_errors("presence"):
            total = await self._leave(
                keys=[self._key(user_id), self._hosts_key, self._users_key],
                args=[self.host, self._oldest(), user_id],
            )
        return int(total) == 0

    async def count(self, user_id: str) -> int:
        with redis_errors("presence"):
            keys = [self._key(user_id), self._hosts_key]
            return int(await self._count(keys=keys, args=[self._oldest()]))

    async def online(self, user_ids: Iterable[str]) -> set[str]:
        """One round trip for them all (a room's members: a pipeline of counts)."""
        wanted = list(user_ids)
        if not wanted:
            return set()
        with redis_errors("presence"):
            async with self.client.pipeline(transaction=False) as pipe:
                for user_id in wanted:
                    keys = [self._key(user_id), self._hosts_key]
                    await self._count(keys=keys, args=[self._oldest()], client=pipe)
                counts = await pipe.execute()
        return {user_id for user_id, count in zip(wanted, counts, strict=True) if int(count) > 0}

    async def ping(self) -> None:
        with redis_errors("presence"):
            await self.client.ping()

    async def start(self, on_offline: OfflineHook) -> None:
        with redis_errors("presence"):
            await self._beat()
        self._task = asyncio.create_task(self._run(on_offline))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        try:
            with redis_errors("presence"):
                await self.client.zrem(self._hosts_key, self.host)
                await self.client.delete(self._users_key)
        except ServiceUnavailable as exc:
            log.warning("presence: could not deregister this process: %s", exc)

    async def _run(self, on_offline: OfflineHook) -> None:
        while True:
            await asyncio.sleep(self.heartbeat)
            try:
                with redis_errors("presence"):
                    await self._beat()
                    reaped = await self._reap(
                        keys=[self._hosts_key], args=[self._oldest(), self.prefix]
                    )
            except ServiceUnavailable as exc:
                log.warning("presence heartbeat failed (will retry): %s", exc)
                continue
            for user_id in reaped:
                try:
                    await on_offline(user_id)
                except Exception:
                    log.exception("announcing that %s went offline failed", user_id)

    async def _beat(self) -> None:
        await self.client.zadd(self._hosts_key, {self.host: _now_ms()})

    def _key(self, user_id: str) -> str:
        return f"{self.prefix}presence:{user_id}"

    def _oldest(self) -> int:
        return _now_ms() - int(self.dead_after * 1000)


def _now_ms() -> int:
    return int(time.time() * 1000)
