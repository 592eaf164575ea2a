"""Sessions as Redis hashes with a TTL, patched by Lua scripts.

    <prefix>s:<id>     hash: exp (ms), deadline (ms), user?, d:<key> = JSON text;
                       PEXPIREAT exp
    <prefix>u:<user>   set of that user's session ids; expires with its last deadline

(The ids a store is given are the session layer's keys: chatapp passes a hash
of the cookie's id, so nothing here opens a session.)

Each primitive is one script, so it runs atomically on the server: a patch
applies its keys and renews the TTL in one step, and a script on a key that
expired or was deleted finds nothing and creates nothing. Expired means by
the app's clock (`exp` against the `now` a script is given), not only by the
server's TTL: an app host whose clock runs ahead of Redis's never renews what
it already considers expired.
Scripts name the user-index keys they build from the prefix, which a single
Redis (or a cluster with hash tags in the prefix) accepts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError, TimeoutError

from stores.base import USER_ID_KEY, EncodedChanges, SessionStore, StoredSession, user_id_of
from stores.errors import SessionGone, SessionStoreError, StoreUnavailable

# A user's index set lives as long as the latest deadline of its sessions.
_INDEX = """
local function index(user_key, session_id, deadline)
  redis.call('SADD', user_key, session_id)
  local ttl = redis.call('PTTL', user_key)
  local wanted = tonumber(deadline) - tonumber(ARGV[1])
  if ttl < wanted then redis.call('PEXPIRE', user_key, math.max(wanted, 1)) end
end
"""

# KEYS[1] session; ARGV: now_ms, exp_ms, deadline_ms, user or '', user key, session id,
# then key, JSON pairs
_INSERT = (
    _INDEX
    + """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'exp', ARGV[2], 'deadline', ARGV[3])
for i = 7, #ARGV, 2 do redis.call('HSET', KEYS[1], 'd:' .. ARGV[i], ARGV[i + 1]) end
if ARGV[4] ~= '' then
  redis.call('HSET', KEYS[1], 'user', ARGV[4])
  index(ARGV[5], ARGV[6], ARGV[3])
end
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
return 1
"""
)

# KEYS[1] session; ARGV: now_ms, idle_ms, session id, user prefix,
# user changes ('0'/'1'), new user or '', then triples key, op ('s'/'d'), JSON
_APPLY = (
    _INDEX
    + """
local live_until = redis.call('HGET', KEYS[1], 'exp')
if not live_until or tonumber(live_until) <= tonumber(ARGV[1]) then return false end
for i = 7, #ARGV, 3 do
  if ARGV[i + 1] == 's' then
    redis.call('HSET', KEYS[1], 'd:' .. ARGV[i], ARGV[i + 2])
  else
    redis.call('HDEL', KEYS[1], 'd:' .. ARGV[i])
  end
end
local deadline = tonumber(redis.call('HGET', KEYS[1], 'deadline'))
if ARGV[5] == '1' then
  local old = redis.call('HGET', KEYS[1], 'user')
  if old then redis.call('SREM', ARGV[4] .. old, ARGV[3]) end
  if ARGV[6] ~= '' then
    redis.call('HSET', KEYS[1], 'user', ARGV[6])
    index(ARGV[4] .. ARGV[6], ARGV[3], deadline)
  else
    redis.call('HDEL', KEYS[1], 'user')
  end
end
local exp = string.format('%d', math.min(tonumber(ARGV[1]) + tonumber(ARGV[2]), deadline))
redis.call('HSET', KEYS[1], 'exp', exp)
redis.call('PEXPIREAT', KEYS[1], exp)
return redis.call('HGETALL', KEYS[1])
"""
)

# KEYS[1] session; ARGV: now_ms, idle_ms
_TOUCH = """
local deadline = redis.call('HGET', KEYS[1], 'deadline')
local live_until = redis.call('HGET', KEYS[1], 'exp')
if not deadline or tonumber(live_until) <= tonumber(ARGV[1]) then return false end
local exp = string.format('%d', math.min(tonumber(ARGV[1]) + tonumber(ARGV[2]), tonumber(deadline)))
redis.call('HSET', KEYS[1], 'exp', exp)
redis.call('PEXPIREAT', KEYS[1], exp)
return exp
"""

# KEYS[1] session; ARGV: session id, user prefix
_DELETE = """
local user = redis.call('HGET', KEYS[1], 'user')
redis.call('DEL', KEYS[1])
if user then redis.call('SREM', ARGV[2] .. user, ARGV[1]) end
"""


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


class RedisSessionStore(SessionStore):
    name = "redis"

    def __init__(
        self,
        client: aioredis.Redis,
        *,
        idle_timeout: float,
        absolute_timeout: float,
        prefix: str = "chatapp:",
    ) -> None:
        """`client`: a redis.asyncio client configured with socket timeouts."""
        super().__init__(idle_timeout=idle_timeout, absolute_timeout=absolute_timeout)
        self.client = client
        self._session_prefix = prefix + "s:"
        self._user_prefix = prefix + "u:"
        self._insert_script = client.register_script(_INSERT)
        self._apply_script = client.register_script(_APPLY)
        self._touch_script = client.register_script(_TOUCH)
        self._delete_script = client.register_script(_DELETE)

    async def _read(self, session_id: str) -> StoredSession | None:
        with _unavailable_on_network_errors():
            fields = await self.client.hgetall(self._session_prefix + session_id)
        if not fields:
            return None
        return _stored(session_id, {_text(k): _text(v) for k, v in fields.items()})

    async def _insert(self, stored: StoredSession) -> None:
        user_id = stored.user_id or ""
        args: list[Any] = [
            _ms(self.clock()),
            _ms(stored.expires_at),
            _ms(stored.deadline),
            user_id,
            self._user_prefix + user_id,
            stored.id,
        ]
        for key, value in stored.data.items():
            args += [key, value]
        with _unavailable_on_network_errors():
            created = await self._insert_script(keys=[self._session_prefix + stored.id], args=args)
        if not created:
            raise SessionStoreError(f"session id already exists: {stored.id!r}")

    async def _apply(self, session_id: str, changes: EncodedChanges, now: float) -> StoredSession:
        user_changes = USER_ID_KEY in changes
        new_user = user_id_of(changes[USER_ID_KEY]) if user_changes else None
        args: list[Any] = [
            _ms(now),
            _ms(self.idle_timeout),
            session_id,
            self._user_prefix,
            "1" if user_changes else "0",
            new_user or "",
        ]
        for key, value in changes.items():
            args += [key, "d", ""] if value is None else [key, "s", value]
        with _unavailable_on_network_errors():
            fields = await self._apply_script(keys=[self._session_prefix + session_id], args=args)
        if fields is None:
            raise SessionGone(session_id)
        return _stored(session_id, _pairs(fields))

    async def _touch(self, session_id: str, now: float) -> float | None:
        with _unavailable_on_network_errors():
            expires_ms = await self._touch_script(
                keys=[self._session_prefix + session_id],
                args=[_ms(now), _ms(self.idle_timeout)],
            )
        return None if expires_ms is None else int(expires_ms) / 1000

    async def _delete(self, session_id: str) -> None:
        with _unavailable_on_network_errors():
            await self._delete_script(
                keys=[self._session_prefix + session_id], args=[session_id, self._user_prefix]
            )

    async def _indexed_ids(self, user_id: str) -> Iterable[str]:
        with _unavailable_on_network_errors():
            members = await self.client.smembers(self._user_prefix + user_id)
        return [_text(m) for m in members]

    async def ping(self) -> None:
        with _unavailable_on_network_errors():
            await self.client.ping()

    async def close(self) -> None:
        await self.client.aclose()


def _pairs(flat: Sequence[str | bytes]) -> dict[str, str]:
    return {_text(flat[i]): _text(flat[i + 1]) for i in range(0, len(flat), 2)}


def _stored(session_id: str, fields: dict[str, str]) -> StoredSession:
    return StoredSession(
        id=session_id,
        data={k[2:]: v for k, v in fields.items() if k.startswith("d:")},
        expires_at=int(fields["exp"]) / 1000,
        deadline=int(fields["deadline"]) / 1000,
    )


@contextmanager
def _unavailable_on_network_errors() -> Iterator[None]:
    try:
        yield
    except (ConnectionError, TimeoutError) as exc:
        raise StoreUnavailable(f"Redis did not answer ({type(exc).__name__}: {exc})") from exc
