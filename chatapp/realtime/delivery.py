"""How a push reaches sockets: in order, without the pusher waiting, one write per recipient.

`Deliveries` is the one queue every push of this process goes through. A
request that stored a post answers at once; one task emits the pushes in
the order they were made, so a user's pages see events in the order they
happened (with a message queue, also in the order they are published).
What was pushed is stored already, so a push that fails (Redis gone) is
logged and dropped: a page that reconnects reloads what it missed.

`DirectEmit` is python-socketio's emit without a task per recipient: its
AsyncManager starts one task per socket and waits for them all, about half
the CPU of a post to 1,000 friends. A packet is encoded once: a socket on a
WebSocket of its own (chatapp.transport) gets the same frame bytes written to
its stream; a polling socket gets the packet on its queue (never waiting:
the queue is unbounded).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import socketio
from engineio import packet as eio_packet
from socketio import packet

from chatapp.logs import request_id
from chatapp.realtime.rooms import RoomIndex
from chatapp.transport.frames import frame
from chatapp.transport.socket import WebSocketSocket

log = logging.getLogger(__name__)

#: Pushes waiting for the delivery task; a pusher past this waits for room.
QUEUE_SIZE = 10_000
#: A push that is an order, not an event: the sockets of its rooms enter (`{"enter":
#: room}`) or leave (`{"leave": room}`) a room. It travels the path every push takes, in
#: order, through the message queue to every process, so a room's message pushed after
#: a member was removed reaches none of that member's sockets, in any process.
MEMBERSHIP = "chatapp:membership"
#: A push of several events to the same sockets: its data is `[[event, data], ...]`. Each
#: socket is found once for all of them and written them in that order: a post reaches a
#: friend as `feed:post` and its `notification`, which cost two look-ups a recipient.
TOGETHER = "chatapp:together"


@dataclass(frozen=True)
class Push:
    event: str
    data: Any
    rooms: str | list[str]
    skip_sid: str | None = None
    #: The work that made it (chatapp.logs): its delivery logs under the same id.
    request_id: str = field(default_factory=request_id.get)


class Deliveries:
    def __init__(self, sio: socketio.AsyncServer) -> None:
        self.sio = sio
        self._queue: asyncio.Queue[Push] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._deliver())

    async def put(self, push: Push) -> None:
        """Deliver soon (at once if the delivery task is not running)."""
        if self._task is None:
            await self._emit(push)
        else:
            await self._queue.put(push)

    @property
    def pending(self) -> int:
        """Pushes made and not yet handed to the sockets."""
        return self._queue.qsize()

    async def stop(self, within: float) -> None:
        """Deliver what is queued (for up to `within` seconds), then stop."""
        if self._task is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), within)
        if self.pending:
            log.warning("stopping with %d pushes undelivered", self.pending)
        self._task.cancel()
        self._task = None

    async def _deliver(self) -> None:
        while True:
            if self._queue.empty():
                push = await self._queue.get()
                # The pusher goes first: the request that made this push sends its answer
                # (or reaches its next real wait) before the fan-out takes the loop.
                await asyncio.sleep(0)
            else:  # pushes made together go out together: each socket wakes once for them
                push = self._queue.get_nowait()
            request_id.set(push.request_id)
            try:
                await self._emit(push)
            except Exception:
                log.exception("push %r not delivered", push.event)
            finally:
                self._queue.task_done()

    async def _emit(self, push: Push) -> None:
        await self.sio.emit(push.event, push.data, to=push.rooms, skip_sid=push.skip_sid)


class DirectEmit(RoomIndex):
    """python-socketio 5.x's AsyncManager.emit, each packet encoded once and handed to
    each socket in turn instead of by a task per socket (an emit with a callback,
    which needs a packet per socket, goes the original way); rooms as RoomIndex keeps
    them. `pushed` hears how many sockets each push was written to (metrics)."""

    def __init__(
        self, *args: Any, pushed: Callable[[int], None] = lambda sockets: None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.pushed = pushed

    async def emit(
        self,
        event: str,
        data: Any,
        namespace: str,
        room: Any = None,
        skip_sid: Any = None,
        callback: Any = None,
        to: Any = None,
        **kwargs: Any,
    ) -> None:
        if callback is not None:
            return await super().emit(  # type: ignore[no-any-return]
                event, data, namespace, room, skip_sid, callback, to, **kwargs
            )
        room = to or room
        if namespace not in self.rooms:
            return None
        if event == MEMBERSHIP:
            self._change_membership(namespace, room, data)
            return None
        events = data if event == TOGETHER else [(event, data)]
        packets = [pkt for name, args in events for pkt in self._packets(namespace, name, args)]
        skipped = skip_sid if isinstance(skip_sid, list) else [skip_sid]
        wire = b""  # the WebSocket frames, made for the first socket that needs them
        sockets = self.server.eio.sockets
        written = 0
        for sid, eio_sid in self.get_participants(namespace, room):
            if sid in skipped:
                continue
            written += 1
            socket = sockets.get(eio_sid)
            try:
                if isinstance(socket, WebSocketSocket):
                    wire = wire or b"".join(frame(packet.encode()) for packet in packets)
                    socket.write(wire)
                else:
                    for pkt in packets:
                        await self.server._send_eio_packet(eio_sid, pkt)
            except Exception:  # one socket's trouble is not the others'
                log.exception("emit to %s failed", sid)
        self.pushed(written)
        return None

    def _packets(self, namespace: str, event: str, data: Any) -> list[eio_packet.Packet]:
        """An event as the Engine.IO packets that carry it (several when it holds binary)."""
        arguments = list(data) if isinstance(data, tuple) else [] if data is None else [data]
        encoded = self.server.packet_class(
            packet.EVENT, namespace=namespace, data=[event, *arguments]
        ).encode()
        return [
            eio_packet.Packet(eio_packet.MESSAGE, part)
            for part in (encoded if isinstance(encoded, list) else [encoded])
        ]

    def _change_membership(self, namespace: str, room: Any, order: dict[str, str]) -> None:
        for sid, eio_sid in self.get_participants(namespace, room):
            if "enter" in order:
                self.basic_enter_room(sid, namespace, order["enter"], eio_sid=eio_sid)
            elif "leave" in order:
                self.basic_leave_room(sid, namespace, order["leave"])


#: The longest wait before the message queue's subscriber tries Redis again.
RESUBSCRIBE_AT_MOST = 2.0


class RedisDirectEmit(socketio.AsyncRedisManager, DirectEmit):  # type: ignore[misc]
    """The Redis message queue, each process delivering what it receives as DirectEmit
    does (the method order puts DirectEmit.emit under the publishing one)."""

    def __init__(
        self, *args: Any, pushed: Callable[[int], None] = lambda sockets: None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)  # python-socketio's passes no keyword on to DirectEmit
        self.pushed = pushed

    async def _redis_listen_with_retries(self) -> AsyncIterator[Any]:
        """python-socketio's subscriber loop, retrying every 0.5 to 2 s while Redis is
        away. Its own doubles the wait up to 60 s, so after a 10 s outage (a Sentinel
        failover, a restart) pushes between processes stayed lost for up to 16 s more
        (tests/test_sentinel.py, tests/test_faults.py)."""
        wait = 0.5
        subscribed = lost = False
        while True:
            try:
                if not subscribed:
                    self._redis_connect()
                    await self.pubsub.subscribe(self.channel)
                    subscribed, wait = True, 0.5
                    if lost:
                        log.info("message queue back")
                async for message in self.pubsub.listen():
                    yield message
            except Exception as exc:  # anything redis-py raises: lost, refused, no primary
                log.warning("message queue lost (%s); again in %.1f s", exc, wait)
                subscribed, lost = False, True
                await asyncio.sleep(wait)
                wait = min(wait * 2, RESUBSCRIBE_AT_MOST)
