"""A WebSocket's TCP connection, read and written straight on the event loop.

Why not asyncio's own transport: a socket's is idle nearly all its life, and
asyncio's held 1.1 kB for it (an object with a dictionary, the two addresses
looked up at once, a weak reference, a deque) and wrapped every `send()` in
checks a WebSocket frame does not need. This one is the socket, the protocol
it feeds, and the bytes the kernel has not taken yet (only while there are
some). It has the method names of `asyncio.Transport` that `WebSocketSocket`
uses, and the same promises: `connection_lost` is called once, never from
inside a call the protocol made; `close` sends what is pending first.

Nor is each connection a reader of the loop's own: `loop.add_reader` kept per
socket a handle, a selector key and its tuple, 425 bytes of an idle socket's
3.8 kB. `Readers` watches them all in one epoll of its own, which the loop
watches as one reader (a dictionary entry per connection).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import select
import socket
from typing import Protocol

log = logging.getLogger(__name__)

#: The most read in one go: a client's burst of messages (a frame is at most
#: `max_http_buffer_size`, assembled by FrameReader over as many reads as it takes).
READ_SIZE = 64 * 1024
#: Connections read in one turn of the loop at most; the rest wait for the next turn.
READS_PER_TURN = 256


class Receiver(Protocol):
    def connection_made(self, transport: Connection) -> None: ...
    def data_received(self, data: bytes) -> None: ...
    def connection_lost(self, exc: Exception | None) -> None: ...


class Readers:
    """The connections waiting for bytes, in one epoll that the loop reads when any is ready.

    The epoll is made for the first connection and closed with the last one, so
    nothing outlives the sockets. Where there is no epoll (not Linux), or with
    `shared=False`, each connection is a reader of the loop's own, as asyncio does.
    """

    __slots__ = ("_epoll", "_loop", "_shared", "_watched")

    def __init__(self, *, shared: bool = hasattr(select, "epoll")) -> None:
        self._shared = shared
        self._epoll: select.epoll | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._watched: dict[int, Connection] = {}

    def __len__(self) -> int:
        return len(self._watched)

    def watch(self, fd: int, connection: Connection) -> None:
        loop = asyncio.get_running_loop()
        if not self._shared:
            loop.add_reader(fd, connection.readable)
            self._watched[fd] = connection
            return
        if self._epoll is None:
            self._epoll, self._loop = select.epoll(), loop
            loop.add_reader(self._epoll.fileno(), self._ready)
        self._epoll.register(fd, select.EPOLLIN)
        self._watched[fd] = connection

    def unwatch(self, fd: int) -> None:
        if self._watched.pop(fd, None) is None:
            return
        if not self._shared:
            asyncio.get_running_loop().remove_reader(fd)
            return
        assert self._epoll is not None and self._loop is not None
        with contextlib.suppress(OSError):  # already gone from the kernel's side
            self._epoll.unregister(fd)
        if not self._watched:
            self._loop.remove_reader(self._epoll.fileno())
            self._epoll.close()
            self._epoll = self._loop = None

    def _ready(self) -> None:
        if self._epoll is None:
            return
        for fd, _ in self._epoll.poll(0, READS_PER_TURN):
            connection = self._watched.get(fd)  # None: closed by an earlier one of this turn
            if connection is not None:
                connection.readable()


class Connection:
    """Starts with reading paused: `resume_reading` once the protocol is ready."""

    __slots__ = (
        "_closing",
        "_fd",
        "_loop",
        "_pending",
        "_protocol",
        "_readers",
        "_reading",
        "_sock",
    )

    def __init__(self, sock: socket.socket, protocol: Receiver, readers: Readers) -> None:
        sock.setblocking(False)
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            # No Nagle: what a pass of the loop writes leaves in one send() already (Outbox),
            # and a frame must not wait for the ACK of the one before it (with the client's
            # delayed ACKs, up to 40 ms). Tornado's WebSocketHandler left it on; Node's ws
            # turns it off, as this does.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock: socket.socket | None = sock
        self._fd = sock.fileno()
        self._loop = asyncio.get_running_loop()
        self._protocol = protocol
        self._readers = readers
        #: What the kernel did not take yet; empty nearly always.
        self._pending = bytearray()
        self._reading = False
        self._closing = False
        protocol.connection_made(self)

    # -- reading -----------------------------------------------------------------------

    def resume_reading(self) -> None:
        if not self._reading and not self._closing and self._sock is not None:
            self._readers.watch(self._fd, self)
            self._reading = True

    def pause_reading(self) -> None:
        if self._reading:
            self._readers.unwatch(self._fd)
            self._reading = False

    def readable(self) -> None:
        """Readers found bytes (or the end) waiting: take them."""
        if self._sock is None:
            return
        try:
            data = self._sock.recv(READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:  # reset by the peer, and the like
            self._lost(exc)
            return
        if not data:  # the client closed its side
            self._lost(None)
            return
        try:
            self._protocol.data_received(data)
        except Exception as exc:  # a fault of ours: this connection ends, not the server
            log.exception("reading a WebSocket failed; closing it")
            self._lost(exc)

    # -- writing -----------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        """Send now what the kernel takes; keep the rest until the socket is writable."""
        if self._sock is None or self._closing:
            return
        if self._pending:
            self._pending += data
            return
        try:
            sent = self._sock.send(data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError as exc:
            self._lost(exc)
            return
        if sent < len(data):
            self._pending += memoryview(data)[sent:]
            self._loop.add_writer(self._fd, self._writable)

    def get_write_buffer_size(self) -> int:
        return len(self._pending)

    def _writable(self) -> None:
        if self._sock is None:
            return
        try:
            sent = self._sock.send(self._pending)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._lost(exc)
            return
        del self._pending[:sent]
        if not self._pending:
            self._loop.remove_writer(self._fd)
            if self._closing:
                self._lost(None)

    # -- ending ------------------------------------------------------------------------

    def is_closing(self) -> bool:
        return self._closing or self._sock is None

    def close(self) -> None:
        """Stop reading, send what is pending, then close."""
        if self.is_closing():
            return
        self.pause_reading()
        self._closing = True
        if not self._pending:
            self._lost(None)

    def abort(self) -> None:
        """Close now, whatever is pending."""
        self._lost(None)

    def _lost(self, exc: Exception | None) -> None:
        sock, self._sock = self._sock, None
        if sock is None:
            return
        self.pause_reading()
        if self._pending:
            self._loop.remove_writer(self._fd)
            self._pending.clear()
        sock.close()
        self._loop.call_soon(self._protocol.connection_lost, exc)
