"""The Socket.IO server and the userSockets registry, as the settings make them.

One process: python-socketio's in-memory manager, presence counted in memory.
With `[socketio] message_queue = redis://...`: AsyncRedisManager carries
emits to every process, and presence and control orders live on that Redis.
"""

from __future__ import annotations

from typing import Any

import socketio

from chatapp.backends import connect_redis
from chatapp.realtime.control import LocalControl, RedisControl
from chatapp.realtime.origins import OriginPolicy
from chatapp.realtime.presence import LocalPresence, RedisPresence
from chatapp.realtime.registry import UserSockets
from chatapp.settings import Settings


class RedisQueueManager(socketio.AsyncRedisManager):  # type: ignore[misc]
    """python-socketio's Redis manager on a client from `connect_redis`.

    Its own client has redis-py's default pool, which refuses a burst of more
    than 100 concurrent emits ("Cannot publish to redis... giving up"): the
    emits are lost. Overrides `_redis_connect`, python-socketio's (5.x) one
    place where that client is made.
    """

    def __init__(self, url: str, timeout: float) -> None:
        super().__init__(url)
        self.timeout = timeout

    def _redis_connect(self) -> None:
        # No read timeout: the subscriber waits for messages indefinitely. Bytes, not
        # str: python-socketio compares the channel name as bytes.
        self.redis = connect_redis(
            self.redis_url, self.timeout, read_timeout=None, decode_responses=False
        )
        self.pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        self.connected = True


def build_realtime(settings: Settings, origins: OriginPolicy) -> UserSockets:
    queue = settings.socketio.message_queue
    timeout = settings.redis.timeout
    manager = None
    if queue:
        manager = RedisQueueManager(queue, timeout)

    def origin_allowed(origin: str | None, environ: dict[str, Any]) -> bool:
        return origins.allows(origin, environ["tornado.handler"].request)

    sio = socketio.AsyncServer(
        async_mode="tornado",
        client_manager=manager,
        cors_allowed_origins=origin_allowed,
        cors_credentials=True,
        max_http_buffer_size=settings.server.max_message_size,
        ping_interval=settings.socketio.ping_interval,
        ping_timeout=settings.socketio.ping_timeout,
        logger=False,
        engineio_logger=False,
    )
    if queue:
        client = connect_redis(queue, timeout)
        beat = settings.socketio.presence_heartbeat
        presence = RedisPresence(client, heartbeat=beat, dead_after=3 * beat)
        return UserSockets(sio, presence, RedisControl(client))
    return UserSockets(sio, LocalPresence(), LocalControl())
