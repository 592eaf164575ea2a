"""The Socket.IO server and the userSockets registry, as the settings make them.

One process: python-socketio's in-memory manager, presence counted in memory.
With `[socketio] message_queue = redis://...`: AsyncRedisManager carries
emits to every process, and presence and control orders live on that Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import types
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import engineio
import socketio
from engineio.async_socket import AsyncSocket
from socketio import packet

from chatapp.backends import connect_redis
from chatapp.errors import ApiError
from chatapp.realtime.acks import collecting_after_ack
from chatapp.realtime.control import LocalControl, RedisControl
from chatapp.realtime.delivery import DirectEmit, RedisDirectEmit
from chatapp.realtime.origins import OriginPolicy
from chatapp.realtime.packets import ChatPacket
from chatapp.realtime.presence import LocalPresence, RedisPresence
from chatapp.realtime.registry import Directory, UserSockets
from chatapp.settings import Settings
from chatapp.transport import handshake_of
from chatapp.transport.socket import WebSocketSocket
from stores.base import SessionStore


def queue_options(timeout: float) -> dict[str, Any]:
    """redis_options for python-socketio's AsyncRedisManager (its public way to configure
    the client it makes): a bounded connect, no read timeout (its subscriber waits for
    messages indefinitely), and room for a burst of emits: redis-py's default pool
    refuses past 100 connections at once ("Cannot publish to redis... giving up"),
    which 200 concurrent socket events reach; each publish holds a connection only
    for its round trip.
    """
    return {
        "socket_connect_timeout": timeout,
        "socket_timeout": None,
        "health_check_interval": 30,
        "max_connections": QUEUE_CONNECTIONS,
    }


#: The message queue's connection pool: far above any burst a process sees.
QUEUE_CONNECTIONS = 2000


log = logging.getLogger(__name__)

#: Names python-socketio dispatches to lifecycle handlers: never a client's event.
RESERVED_EVENTS = frozenset(
    {"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"}
)


class ChatServer(socketio.AsyncServer):  # type: ignore[misc]
    """python-socketio's server with the dispatch rules it lacks.

    - A client event with a reserved name (`disconnect`, `connect`, ...) is
      refused with an `unknown_event` ack. python-socketio dispatches client
      events and its own lifecycle calls through one path, so a client
      emitting "disconnect" would otherwise run the server's disconnect
      handler while its socket stays open.
    - Work an event handler gave `after_ack` (chatapp.realtime.acks) runs
      after its ack is queued, so the packet queue orders the two.
    - `on_connected(sid)` runs once a connect has completed (python-socketio
      marks a socket connected only after its connect handler returns; until
      then it cannot be disconnected).
    - A frame it cannot decode ends its connection with one log line; an event
      with no name is refused with an `unknown_event` ack.
    - A socket on chatapp's own WebSocket has its events handled one after the
      other, in the task that hands its messages over (no task per event).
    - A refused connect closes its Engine.IO connection: python-socketio keeps it
      open for another namespace, and a client that never asks holds server
      memory until it leaves. Open connections are counted per client address,
      for the transport handler's cap.
    - Before Python 3.12, each polling Engine.IO socket waits for its packets
      with `poll_with_timeout` (below), a fifth less CPU in a large fan-out
      (WebSocket sockets have no queue: chatapp.transport).

    These override six methods of python-socketio 5.x's AsyncServer
    (`_handle_event`, `_handle_event_internal`, `_handle_connect`,
    `_handle_eio_message`, `_handle_eio_connect`, `_handle_eio_disconnect`) and,
    per socket, python-engineio's `AsyncSocket.poll`; tests/test_sockets.py,
    tests/test_transport.py and tests/test_delivery.py pin them.
    """

    #: Set by whoever owns the sockets (build_realtime: the registry).
    on_connected: Callable[[str], Awaitable[None]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connections_from: Counter[str] = Counter()  # open Engine.IO connections

    async def _handle_eio_connect(self, eio_sid: str, environ: dict[str, Any]) -> None:
        socket = self.eio._get_socket(eio_sid)
        if sys.version_info < (3, 12) and isinstance(socket, AsyncSocket):  # polling's
            socket.poll = types.MethodType(poll_with_timeout, socket)
        await super()._handle_eio_connect(eio_sid, environ)
        self.connections_from[client_address(environ)] += 1

    async def _handle_eio_disconnect(self, eio_sid: str, reason: Any) -> None:
        environ = self.environ.get(eio_sid)
        await super()._handle_eio_disconnect(eio_sid, reason)
        if environ is not None:
            address = client_address(environ)
            self.connections_from[address] -= 1
            if self.connections_from[address] <= 0:
                del self.connections_from[address]

    async def _handle_event(self, eio_sid: str, namespace: str, id: Any, data: Any) -> None:
        """An event of a socket on chatapp's own WebSocket runs in the task that hands that
        socket's messages over one at a time (chatapp.transport), not in a task of its own:
        its events are handled in the order sent, one after the other, and a client far
        ahead is not read from. Polling sockets keep python-socketio's task per event; an
        event without a name (`421[]`, on which python-socketio's own raises) is refused
        with an `unknown_event` ack on either."""
        own = isinstance(self.eio.sockets.get(eio_sid), WebSocketSocket)
        if not own and data:
            await super()._handle_event(eio_sid, namespace, id, data)
            return
        namespace = namespace or "/"
        sid = self.manager.sid_from_eio_sid(eio_sid, namespace)
        if self.manager.is_connected(sid, namespace):
            await self._handle_event_internal(self, sid, eio_sid, data, namespace, id)

    async def _handle_event_internal(
        self, server: Any, sid: str, eio_sid: str, data: Any, namespace: str, id: Any
    ) -> None:
        event = data[0] if isinstance(data, list) and data else None
        if not isinstance(event, str) or event in RESERVED_EVENTS:
            if id is not None:
                refusal = ApiError(400, "unknown_event", "unknown event").answer.ack()
                ack = self.packet_class(packet.ACK, namespace=namespace, id=id, data=[refusal])
                await self._send_packet(eio_sid, ack)
            return
        async with collecting_after_ack():
            await super()._handle_event_internal(server, sid, eio_sid, data, namespace, id)

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        """A frame python-socketio cannot take apart (`421[]`, 100,000-deep nesting)
        ends that connection with one log line, never a traceback per frame."""
        try:
            await super()._handle_eio_message(eio_sid, data)
        except (ValueError, IndexError, KeyError, TypeError, RecursionError) as exc:
            log.warning(
                "malformed Socket.IO frame (%s); closing its connection", type(exc).__name__
            )
            # Without waiting for the close packet to go out (python-engineio's
            # disconnect does): over polling that waits for the client's next GET, and
            # the frame came in a POST that must be answered first. A socket closed so
            # is dropped by engine.io's own housekeeping, as after a ping timeout.
            socket = self.eio.sockets.get(eio_sid)
            if socket is not None:
                await socket.close(wait=False, reason=self.eio.reason.SERVER_DISCONNECT)
                if isinstance(socket, AsyncSocket) and socket.upgraded:
                    socket.queue.put_nowait(None)  # its writer sends CLOSE, then ends the TCP

    async def _handle_connect(self, eio_sid: str, namespace: str | None, data: Any) -> None:
        await super()._handle_connect(eio_sid, namespace, data)
        namespace = namespace or "/"
        sid = self.manager.sid_from_eio_sid(eio_sid, namespace)
        if sid is not None and self.manager.is_connected(sid, namespace):
            await self.on_connected(sid)
        else:  # refused: closed once the refusal is out
            self.start_background_task(self._close_refused, eio_sid)

    async def _close_refused(self, eio_sid: str) -> None:
        """Over long-polling, once the client has fetched the refusal (or after a ping
        cycle, if it never does): python-engineio marks a closing socket closed before its
        queue drains, so the GET a browser sends after its connect POST found the
        connection gone and never learnt why it was refused (an "xhr poll error")."""
        socket = self.eio.sockets.get(eio_sid)
        if isinstance(socket, AsyncSocket) and not socket.upgraded:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.eio.ping_interval + self.eio.ping_timeout):
                    await socket.queue.join()
        await self.eio.disconnect(eio_sid)


async def poll_with_timeout(self: Any) -> list[Any]:
    """python-engineio 4.x's AsyncSocket.poll, waiting with `asyncio.timeout` instead of
    `asyncio.wait_for`, which before Python 3.12 wraps every wait in a task of its own:
    a third of the server's CPU in a post to 1,000 friends (docs/PERFORMANCE.md).
    What wait_for became in Python 3.12, so it is applied before that only."""
    try:
        async with asyncio.timeout(self.server.ping_interval + self.server.ping_timeout):
            packets = [await self.queue.get()]
        self.queue.task_done()
    except (TimeoutError, asyncio.CancelledError):
        raise engineio.exceptions.QueueEmpty() from None
    if packets == [None]:
        return []
    while True:
        try:
            pkt = self.queue.get_nowait()
        except asyncio.QueueEmpty:
            break
        self.queue.task_done()
        if pkt is None:
            self.queue.put_nowait(None)
            break
        packets.append(pkt)
    return packets


def client_address(environ: dict[str, Any]) -> str:
    """The client's address as Tornado saw it (the forwarded one behind a proxy)."""
    return handshake_of(environ).remote_ip


def build_realtime(
    settings: Settings,
    origins: OriginPolicy,
    store: SessionStore,
    directory: Directory,
    pushed: Callable[[int], None] = lambda sockets: None,
) -> UserSockets:
    """The Socket.IO server and its registry; `pushed` hears how many sockets of this
    process each push was written to."""
    queue = settings.socketio.message_queue
    timeout = settings.redis.timeout
    manager: DirectEmit = DirectEmit(pushed=pushed)
    if queue:
        manager = RedisDirectEmit(queue, redis_options=queue_options(timeout), pushed=pushed)

    def origin_allowed(origin: str | None, environ: dict[str, Any]) -> bool:
        return origins.allows(origin, environ["tornado.handler"].request)

    sio = ChatServer(
        async_mode="tornado",
        client_manager=manager,
        cors_allowed_origins=origin_allowed,
        cors_credentials=True,
        max_http_buffer_size=settings.socketio.max_message_size,
        ping_interval=settings.socketio.ping_interval,
        ping_timeout=settings.socketio.ping_timeout,
        logger=False,
        engineio_logger=False,
        serializer=ChatPacket,
    )
    if queue:
        client = connect_redis(queue, timeout)
        beat = settings.socketio.presence_heartbeat
        presence = RedisPresence(client, heartbeat=beat, dead_after=3 * beat)
        sockets = UserSockets(sio, presence, RedisControl(client), store, directory)
    else:
        sockets = UserSockets(sio, LocalPresence(), LocalControl(), store, directory)
    sio.on_connected = sockets.connected
    return sockets
