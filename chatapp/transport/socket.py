"""An Engine.IO 4 socket that lives on its own WebSocket: see the package docstring."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import engineio
from engineio import packet as eio_packet
from tornado.iostream import IOStream, StreamBufferFullError, StreamClosedError

from chatapp.transport import frames
from chatapp.transport.outbox import Outbox

if TYPE_CHECKING:
    from tornado.websocket import WebSocketHandler

log = logging.getLogger(__name__)

#: Bytes written to a socket and not yet taken by its client; past this the client is
#: too slow (or gone without a word) and is cut off rather than buffered without end.
MAX_PENDING_BYTES = 4 * 1024 * 1024


class WebSocketSocket:
    """What python-engineio's server holds in `sockets[sid]`, for a WebSocket connection.

    Sending writes a frame to the stream at once (Tornado sends what the kernel
    takes and keeps the rest for when the socket is writable), so packets leave
    in the order they were sent, with no task in between. The heartbeat is the
    protocol's: a PING every `ping_interval`, and no PONG within `ping_timeout`
    closes the socket.
    """

    __slots__ = (
        "_awaiting_pong",
        "_ending",
        "_outbox",
        "_session",
        "_timer",
        "_unsent",
        "closed",
        "closing",
        "handler",
        "server",
        "sid",
    )
    #: Always true here: it is connected, and on a WebSocket, from its first packet.
    connected = True
    upgraded = True
    upgrading = False

    def __init__(
        self, server: engineio.AsyncServer, sid: str, handler: WebSocketHandler, outbox: Outbox
    ) -> None:
        self.server = server
        self.sid = sid
        self.handler = handler
        self.closing = False
        self.closed = False
        self._awaiting_pong = False
        self._timer: asyncio.TimerHandle | None = None
        self._session: dict[str, Any] | None = None
        self._ending: asyncio.Future[None] | None = None
        self._outbox = outbox
        #: Frames written in this pass of the loop, sent together when it ends.
        self._unsent: list[bytes] | None = None

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
        """python-engineio's monitor asks; the heartbeat timer here already knows."""
        return not self.closed

    async def close(self, wait: bool = True, abort: bool = False, reason: Any = None) -> None:
        """Announce the disconnect, send CLOSE (unless the client is gone), end the WebSocket."""
        if self.closed or self.closing:
            return
        self.closing = True
        self._cancel_timer()
        await self.server._trigger_event(
            "disconnect", self.sid, reason or self.server.reason.SERVER_DISCONNECT, run_async=False
        )
        if not abort:
            self.write(frames.CLOSE)
        self.flush()
        self.closed = True
        if self.server.sockets.get(self.sid) is self:
            del self.server.sockets[self.sid]
        self.handler.close()

    # -- the wire ----------------------------------------------------------------------

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
        """Send what was written, in one `send()`; a reader too far behind is cut off.

        While nothing waits in the stream, the bytes go to the kernel at once; only
        what the kernel does not take is handed to Tornado's `IOStream.write`, which
        keeps it and sends it when the socket is writable. That skips, for nearly
        every frame, the Future, the buffer copy and the bookkeeping `IOStream.write`
        does for each call.
        """
        unsent, self._unsent = self._unsent, None
        stream = self._stream()
        if not unsent or stream is None:
            return
        data = unsent[0] if len(unsent) == 1 else b"".join(unsent)
        try:
            if type(stream) is IOStream and not stream.writing():  # TLS goes Tornado's way
                try:
                    sent = stream.socket.send(data)
                except BlockingIOError:  # the kernel's buffer is full: Tornado keeps it all
                    sent = 0
                if sent == len(data):
                    return
                data = data[sent:]
            stream.write(data)
        except StreamBufferFullError:
            log.warning("socket %s fell %d bytes behind; cut off", self.sid, MAX_PENDING_BYTES)
            stream.close()  # no close frame fits; the stream's close announces the disconnect
        except (StreamClosedError, OSError):
            self._end(self.server.reason.TRANSPORT_CLOSE, abort=True)

    def opened(self) -> None:
        """The handshake is done: bound the stream's backlog, start the heartbeat."""
        stream = self._stream()
        if stream is not None:
            stream.max_write_buffer_size = MAX_PENDING_BYTES
        self._timer = asyncio.get_running_loop().call_later(self.server.ping_interval, self._ping)

    def received(self, message: str | bytes) -> Any:
        """A frame from the client; an awaitable when it starts work (a message)."""
        if isinstance(message, bytes):
            return self._message(message)
        kind, data = message[:1], message[1:]
        if kind == "4":
            return self._message(data)
        if kind == "3":
            self._pong()
        elif kind == "2":  # a client's own ping (or a probe): answered
            self.write(frames.frame("3" + data))
        elif kind == "1":
            self._end(self.server.reason.CLIENT_DISCONNECT, abort=True)
        elif kind not in ("5", "6"):  # upgrade and noop mean nothing here
            log.warning("malformed Engine.IO frame; closing its connection")
            self._end(self.server.reason.TRANSPORT_ERROR)
        return None

    def lost(self) -> None:
        """The WebSocket closed under us (the client left, or the network did)."""
        self._end(self.server.reason.TRANSPORT_CLOSE, abort=True)

    # -- inside ------------------------------------------------------------------------

    def _stream(self) -> IOStream | None:
        connection = self.handler.ws_connection
        if connection is None or connection.is_closing():
            return None
        return connection.stream

    def _message(self, data: str | bytes) -> Any:
        return self.server._trigger_event(
            "message", self.sid, data, run_async=self.server.async_handlers
        )

    def _ping(self) -> None:
        if self.closing or self.closed:
            return
        self._awaiting_pong = True
        self.write(frames.PING)
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self.server.ping_timeout, self._pong_overdue)

    def _pong(self) -> None:
        if not self._awaiting_pong:
            return
        self._awaiting_pong = False
        self._cancel_timer()
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self.server.ping_interval, self._ping)

    def _pong_overdue(self) -> None:
        if self._awaiting_pong:
            self._end(self.server.reason.PING_TIMEOUT)

    def _end(self, reason: Any, abort: bool = False) -> None:
        if not (self.closing or self.closed or self._ending):
            # Held here until done: a task nobody holds may be collected half way.
            self._ending = asyncio.ensure_future(self.close(wait=False, abort=abort, reason=reason))

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
