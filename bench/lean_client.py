"""A lean Socket.IO client for driving many sockets from one benchmark process.

python-socketio's AsyncClient costs tens of kB and several tasks per
connection in the load generator, and even one aiohttp WebSocket with a reader
task per socket spent ~40 µs of the generator's only core on each message
before its arrival was timed: a post to 1,000 friends measured the client's
queueing, not the server (the Node peer's p99 moved with it). This one is an
asyncio protocol per socket and no task: each frame is parsed where its bytes
arrive (`buffer_updated`), and an event's handler runs right there, so
`time.perf_counter()` in it is the moment the bytes reached this process.
With `deflate=True` it offers permessage-deflate in its handshake, as every
browser does, so the server's answer to that offer is measured too.

Engine.IO 4 over WebSocket: the server opens with `0{...}`, the client joins
the namespace with `40` (and an auth object), the server pings with `2`, the
client answers `3`; events are `42[...]`, an event asking for an ack
`42<id>[...]`, and its ack `43<id>[...]`.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import struct
import zlib
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

EventHandler = Callable[[str, Any], None]

TEXT, BINARY, CLOSE, PING, PONG = 0x1, 0x2, 0x8, 0x9, 0xA


def client_frame(opcode: int, payload: bytes) -> bytes:
    """One final frame from a client: always masked (RFC 6455 5.3)."""
    size = len(payload)
    if size < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | size)
    elif size < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, size)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, size)
    mask = os.urandom(4)
    repeated = (mask * (size // 4 + 1))[:size]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(
        size, "big"
    )
    return head + mask + masked


#: What every socket reads into: each read is taken out of it before the next one
#: (asyncio's plain protocols get a fresh 256 KiB bytes object per read, past
#: malloc's mmap threshold: half the generator's time went to that).
_READS = memoryview(bytearray(64 * 1024))


class LeanSocket(asyncio.BufferedProtocol):
    def __init__(self, request: bytes, on_event: EventHandler | None) -> None:
        self.on_event = on_event
        self.compressed = False  # did the server accept permessage-deflate?
        self._request = request
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._upgraded = False
        self._inflater: Any = None  # zlib.decompressobj once deflate is taken
        self._fresh_inflater_each_message = False
        self._fragments: list[bytes] = []
        self._message_compressed = False
        self._ack_ids = itertools.count()
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        #: Messages before the namespace is joined, for `connect` to read.
        self._early: asyncio.Queue[str | None] = asyncio.Queue()
        self._joined = False

    # -- the public side --------------------------------------------------------------

    def send_text(self, text: str) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(client_frame(TEXT, text.encode()))

    async def call(self, event: str, data: Any = None, timeout: float = 30) -> Any:
        """Emit an event and wait for its ack's first argument."""
        ack_id = next(self._ack_ids)
        answer = asyncio.get_running_loop().create_future()
        self._waiting[ack_id] = answer
        arguments = [event] if data is None else [event, data]
        self.send_text(f"42{ack_id}{json.dumps(arguments)}")
        try:
            return await asyncio.wait_for(answer, timeout)
        finally:
            self._waiting.pop(ack_id, None)

    async def close(self) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(client_frame(CLOSE, struct.pack("!H", 1000)))
            self._transport.close()

    async def next_early(self, timeout: float) -> str:
        message = await asyncio.wait_for(self._early.get(), timeout)
        if message is None:
            raise ConnectionError("closed during the handshake")
        return message

    def joined(self) -> None:
        self._joined = True

    # -- asyncio.BufferedProtocol ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        transport.write(self._request)

    def connection_lost(self, exc: Exception | None) -> None:
        self._early.put_nowait(None)
        for answer in self._waiting.values():
            if not answer.done():
                answer.set_exception(ConnectionError("socket closed"))

    def get_buffer(self, sizehint: int) -> memoryview:
        return _READS

    def buffer_updated(self, nbytes: int) -> None:
        self._buffer += _READS[:nbytes]
        if not self._upgraded and not self._read_upgrade():
            return
        while self._read_frame():
            pass

    # -- reading ------------------------------------------------------------------------

    def _read_upgrade(self) -> bool:
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        head = bytes(self._buffer[:end]).decode("latin-1").split("\r\n")
        del self._buffer[: end + 4]
        if " 101 " not in head[0] + " ":
            self._early.put_nowait(f"refused: {head[0]}")
            return False
        for line in head[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "sec-websocket-extensions" and "permessage-deflate" in value:
                self.compressed = True
                self._fresh_inflater_each_message = "server_no_context_takeover" in value
                self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        self._upgraded = True
        return True

    def _read_frame(self) -> bool:
        """One whole frame off the buffer, handled; False when no whole frame is there."""
        buffer = self._buffer
        if len(buffer) < 2:
            return False
        first, second = buffer[0], buffer[1]
        size, start = second & 0x7F, 2
        if size == 126:
            if len(buffer) < 4:
                return False
            size, start = struct.unpack_from("!H", buffer, 2)[0], 4
        elif size == 127:
            if len(buffer) < 10:
                return False
            size, start = struct.unpack_from("!Q", buffer, 2)[0], 10
        if len(buffer) < start + size:
            return False
        payload = bytes(buffer[start : start + size])  # a server's frames are not masked
        del buffer[: start + size]
        opcode = first & 0x0F
        if opcode >= CLOSE:
            self._control(opcode, payload)
            return True
        if not self._fragments:  # a message's first frame says if it is compressed (RSV1)
            self._message_compressed = bool(first & 0x40)
        self._fragments.append(payload)
        if first & 0x80:
            self._message(b"".join(self._fragments))
            self._fragments = []
        return True

    def _control(self, opcode: int, payload: bytes) -> None:
        if opcode == PING and self._transport is not None:
            self._transport.write(client_frame(PONG, payload))
        elif opcode == CLOSE and self._transport is not None:
            self._transport.close()

    def _message(self, body: bytes) -> None:
        if self._message_compressed:
            if self._fresh_inflater_each_message:
                self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
            body = self._inflater.decompress(body + b"\x00\x00\xff\xff")
        text = body.decode()
        if text == "2":
            self.send_text("3")
        elif not self._joined:
            self._early.put_nowait(text)
        elif text.startswith("43"):
            bracket = text.index("[")
            answer = self._waiting.get(int(text[2:bracket]))
            if answer is not None and not answer.done():
                answer.set_result((json.loads(text[bracket:]) or [None])[0])
        elif text.startswith("42") and self.on_event is not None:
            event, *arguments = json.loads(text[2:])
            self.on_event(event, arguments[0] if arguments else None)


def upgrade_request(url: str, headers: dict[str, str], deflate: bool) -> bytes:
    parts = urlsplit(url)
    lines = [
        "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1",
        f"Host: {parts.netloc}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}",
        "Sec-WebSocket-Version: 13",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    if deflate:
        lines.append("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def connect(
    url: str,
    *,
    deflate: bool = False,
    headers: dict[str, str] | None = None,
    auth: dict[str, Any] | None = None,
    on_event: EventHandler | None = None,
) -> LeanSocket:
    """A connected Socket.IO socket on namespace `/`, or RuntimeError if refused."""
    parts = urlsplit(url)
    socket = LeanSocket(upgrade_request(url, headers or {}, deflate), on_event)
    await asyncio.wait_for(
        asyncio.get_running_loop().create_connection(
            lambda: socket, parts.hostname or "127.0.0.1", parts.port or 80
        ),
        timeout=10,
    )
    opening = await socket.next_early(timeout=30)
    if not opening.startswith("0"):
        await socket.close()
        raise RuntimeError(f"no Engine.IO open packet: {opening[:80]}")
    socket.send_text("40" + (json.dumps(auth) if auth else ""))
    joined = await socket.next_early(timeout=30)
    while joined.startswith("42"):  # an event queued before the answer
        joined = await socket.next_early(timeout=30)
    if not joined.startswith("40"):
        await socket.close()
        raise RuntimeError(f"connect refused: {joined[:120]}")
    socket.joined()
    return socket
