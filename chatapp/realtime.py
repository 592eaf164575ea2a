"""The Socket.IO server and the userSockets registry, as the settings make them.

One process: python-socketio's in-memory manager, presence counted in memory.
With `[socketio] message_queue = redis://...`: AsyncRedisManager carries
emits to every process, and presence and control orders live on that Redis.
"""

from __future__ import annotations

from typing import Any

import socketio

from chatapp.backends import connect_redis
from chatapp.control import LocalControl, RedisControl
from chatapp.origins import OriginPolicy
from chatapp.presence import LocalPresence, RedisPresence
from chatapp.registry import UserSockets
from chatapp.settings import Settings


def build_realtime(settings: Settings, origins: OriginPolicy) -> UserSockets:
    queue = settings.socketio.message_queue
    timeout = settings.redis.timeout
    manager = None
    if queue:
        # No socket_timeout: the manager's subscriber waits for messages indefinitely.
        manager = socketio.AsyncRedisManager(
            queue, redis_options={"socket_connect_timeout": timeout, "health_check_interval": 30}
        )

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
