"""An Engine.IO 4 socket that owns its WebSocket connection: see the package docstring."""

from __future__ import annotations

import asyncio
import collections
import logging
from typing import Any

import engineio
from engineio import packet as eio_packet

from chatapp.transport import frames
from chatapp.transport.connection import Connection
from chatapp.transport.heartbeats import Heartbeats
from chatapp.transport.outbox import Outbox

log = logging.getLogger(__name__)

#: Bytes written to a socket and not yet taken by its client; past this the client is
#: too slow (or gone without a word) and is cut off rather than buffered without end.
MAX_PENDING_BYTES = 4 * 1024 * 1024
#: A client's messages waiting for the one being handled; past this it is not read from.
MAX_WAITING_MESSAGES = 16


class WebSocketSocket:
    """What python-engineio's server holds in `sockets[sid]`, and the protocol of its
    connection, from the moment the WebSocket handshake is answered.

    The connection is read and written on the loop itself (`Connection`): bytes arrive
    in `data_received` (no task waits for them), frames leave through the outbox, one
    `send()` per socket and pass of the loop. The heartbeat is the protocol's: a PING
    every `ping_interval`, and no PONG within `ping_timeout` closes the socket (timed by
    `Heartbeats`, up to a tick late). A client's messages are handed to python-socketio
    one at a time, in order, as python-engineio does (its CONNECT is admitted before the
    events that follow it), by a task that lives while there are messages to hand over;
    a client far ahead is not read from until they are.
    """

    __slots__ = (
        "_awaiting_pong",
        "_beat_at",
        "_ending",
        "_handling",
        "_heartbeats",
        "_inbox",
        "_outbox",
        "_reader",
        "_session",
        "_unsent",
        "closed",
        "closing",
        "server",
        "sid",
        "transport",
    )
    #: Always true here: it is connected, and on a WebSocket, from its first packet.
    connected = True
    upgraded = True
    upgrading = False

    def __init__(
        self, server: engineio.AsyncServer, sid: str, outbox: Outbox, heartbeats: Heartbeats
    ) -> None:
        self.server = server
        self.sid = sid
        self.transport: Connection | None = None
        self.closing = False
        self.closed = False
        self._awaiting_pong = False
        self._heartbeats = heartbeats
        #: The heartbeat bucket it is due in; 0: none.
        self._beat_at = 0
        self._session: dict[str, Any] | None = None
        self._ending: asyncio.Future[None] | None = None
        self._outbox = outbox
        #: Frames written in this pass of the loop, sent together when it ends.
        self._unsent: list[bytes] | None = None
        self._reader = frames.FrameReader(server.max_http_buffer_size)
        #: The task handing over the client's messages, while there are any, and those
        #: waiting their turn.
        self._handling: asyncio.Task[None] | None = None
        self._inbox: collections.deque[str | bytes] | None = None

    @property
    def session(self) -> dict[str, Any]:
        """python-engineio's per-socket user session, made only if someone asks."""
        if self._session is None:
            self._session = {}
        return self._session

    # -- what python-engineio and python-socketio call -----------------------------------

    async def send(self, pkt: eio_packet.Packet) -> None:
        self.write(frames.frame(pkt.encode()))

    async def check_ping_timeout(self) -> bool:
        """python-engineio's monitor asks; the heartbeat here (Heartbeats) already knows."""
        return not self.closed

    async def close(self, wait: bool = True, abort: bool = False, reason: Any = None) -> None:
        """Announce the disconnect, send CLOSE (unless the client is gone), end the WebSocket."""
        if self.closed or self.closing:
            return
        self.closing = True
        self._cancel_beat()
        await self.server._trigger_event(
            "disconnect", self.sid, reason or self.server.reason.SERVER_DISCONNECT, run_async=False
        )
        if not abort:
            self.write(frames.CLOSE)
            self.write(frames.close_frame())
        self.flush()
        self.closed = True
        if self.server.sockets.get(self.sid) is self:
            del self.server.sockets[self.sid]
        if self.transport is not None:
            self.transport.close()  # after what is buffered has been sent

    # -- the wire out ------------------------------------------------------------------

    def write(self, frame: bytes) -> None:
        """Queue one whole frame; it leaves with the others when this pass of the loop ends."""
        if self.closed:
            return
        if self._unsent is None:
            self._unsent = [frame]
            self._outbox.hold(self)
        else:
            self._unsent.append(frame)

    def flush(self) -> None:
        """Send what was written, in one `send()` (asyncio's transport sends at once what
        the kernel takes and keeps the rest); a reader too far behind is cut off."""
        unsent, self._unsent = self._unsent, None
        transport = self.transport
        if not unsent or transport is None or transport.is_closing():
            return
        transport.write(unsent[0] if len(unsent) == 1 else b"".join(unsent))
        if transport.get_write_buffer_size() > MAX_PENDING_BYTES:
            log.warning("socket %s fell %d bytes behind; cut off", self.sid, MAX_PENDING_BYTES)
            transport.abort()  # no close frame would fit; connection_lost ends the socket

    def opened(self) -> None:
        """Connected as far as Engine.IO goes: the heartbeat starts."""
        self._next_beat(self.server.ping_interval)

    def beat(self) -> None:
        """Heartbeats says its time has come: a PING is due, or the PONG is overdue."""
        self._beat_at = 0
        if self.closing or self.closed:
            return
        if self._awaiting_pong:
            self._end(self.server.reason.PING_TIMEOUT)
            return
        self._awaiting_pong = True
        self.write(frames.PING)
        self._next_beat(self.server.ping_timeout)

    # -- the wire in (Connection's Receiver) ------------------------------------------------

    def connection_made(self, transport: Connection) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self.closing or self._ending:  # leaving: nothing more is read
            return
        try:
            for opcode, payload in self._reader.feed(data):
                if opcode == frames.TEXT:
                    self._received(payload.decode("utf-8"))
                elif opcode == frames.BINARY:
                    self._message(payload)
                elif opcode == frames.PING_FRAME:
                    self.write(frames.frame(payload, frames.PONG_FRAME))
                elif opcode == frames.CLOSE_FRAME:  # the client leaves: answer, then end
                    self.write(frames.close_frame())
                    self._end(self.server.reason.CLIENT_DISCONNECT, abort=True)
                    return
        except frames.ProtocolError as error:
            self._refuse(error.code, error.reason)
        except UnicodeDecodeError:
            self._refuse(frames.INVALID_DATA, "text that is not UTF-8")

    def connection_lost(self, exc: Exception | None) -> None:
        """The connection ended under us (the client left, or the network did)."""
        self.transport = None
        self._end(self.server.reason.TRANSPORT_CLOSE, abort=True)

    # -- inside ------------------------------------------------------------------------

    def _received(self, message: str) -> None:
        kind, data = message[:1], message[1:]
        if kind == "4":
            self._message(data)
        elif kind == "3":
            self._pong()
        elif kind == "2":  # a client's own ping (or a probe): answered
            self.write(frames.frame("3" + data))
        elif kind == "1":
            self._end(self.server.reason.CLIENT_DISCONNECT, abort=True)
        elif kind not in ("5", "6"):  # upgrade and noop mean nothing here
            log.warning("malformed Engine.IO frame; closing its connection")
            self._refuse(frames.PROTOCOL_ERROR, "malformed frame")

    def _message(self, data: str | bytes) -> None:
        if self.closing or self.closed:
            return
        if self._handling is None:
            self._handling = asyncio.ensure_future(self._hand_over(data))
            return
        if self._inbox is None:
            self._inbox = collections.deque()
        self._inbox.append(data)
        if len(self._inbox) >= MAX_WAITING_MESSAGES and self.transport is not None:
            self.transport.pause_reading()

    async def _hand_over(self, data: str | bytes) -> None:
        try:
            while True:
                await self.server._trigger_event("message", self.sid, data, run_async=False)
                if not self._inbox or self.closed:
                    return
                data = self._inbox.popleft()
                if not self._inbox and self.transport is not None:
                    self.transport.resume_reading()
        finally:
            self._handling = self._inbox = None

    def _refuse(self, code: int, reason: str) -> None:
        """End a connection whose client broke the protocol, saying why in the close frame."""
        self.write(frames.close_frame(code, reason))
        self._end(self.server.reason.TRANSPORT_ERROR, abort=True)

    def _pong(self) -> None:
        if not self._awaiting_pong:
            return
        self._awaiting_pong = False
        self._next_beat(self.server.ping_interval)

    def _end(self, reason: Any, abort: bool = False) -> None:
        if not (self.closing or self.closed or self._ending):
            # Held here until done: a task nobody holds may be collected half way.
            self._ending = asyncio.ensure_future(self.close(wait=False, abort=abort, reason=reason))

    def _next_beat(self, seconds: float) -> None:
        self._cancel_beat()
        self._beat_at = self._heartbeats.due_in(seconds, self)

    def _cancel_beat(self) -> None:
        if self._beat_at:
            self._heartbeats.cancel(self._beat_at, self)
            self._beat_at = 0
