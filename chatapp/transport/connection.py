"""A WebSocket's TCP connection, read and written straight on the event loop.

Why not asyncio's own transport: a socket's is idle nearly all its life, and
asyncio's held 1.1 kB for it (an object with a dictionary, the two addresses
looked up at once, a weak reference, a deque) and wrapped every `send()` in
checks a WebSocket frame does not need. This one is the socket, the protocol
it feeds, and the bytes the kernel has not taken yet (only while there are
some). It has the method names of `asyncio.Transport` that `WebSocketSocket`
uses, and the same promises: `connection_lost` is called once, never from
inside a call the protocol made; `close` sends what is pending first.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Protocol

log = logging.getLogger(__name__)

#: The most read in one go: a client's burst of messages (a frame is at most
#: `max_http_buffer_size`, assembled by FrameReader over as many reads as it takes).
READ_SIZE = 64 * 1024


class Receiver(Protocol):
    def connection_made(self, transport: Connection) -> None: ...
    def data_received(self, data: bytes) -> None: ...
    def connection_lost(self, exc: Exception | None) -> None: ...


class Connection:
    """Starts with reading paused: `resume_reading` once the protocol is ready."""

    __slots__ = ("_closing", "_fd", "_loop", "_pending", "_protocol", "_reading", "_sock")

    def __init__(self, sock: socket.socket, protocol: Receiver) -> None:
        sock.setblocking(False)
        self._sock: socket.socket | None = sock
        self._fd = sock.fileno()
        self._loop = asyncio.get_running_loop()
        self._protocol = protocol
        #: What the kernel did not take yet; empty nearly always.
        self._pending = bytearray()
        self._reading = False
        self._closing = False
        protocol.connection_made(self)

    # -- reading -----------------------------------------------------------------------

    def resume_reading(self) -> None:
        if not self._reading and not self._closing and self._sock is not None:
            self._loop.add_reader(self._fd, self._readable)
            self._reading = True

    def pause_reading(self) -> None:
        if self._reading:
            self._loop.remove_reader(self._fd)
            self._reading = False

    def _readable(self) -> None:
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
