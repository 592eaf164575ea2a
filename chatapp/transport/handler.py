"""The Tornado handler at /socket.io/: a WebSocket that opens a socket is answered here and
its connection handed to chatapp's own socket (`WebSocketSocket`); long-polling, and a polling
socket's upgrade, stay python-engineio's."""

from __future__ import annotations

from typing import Any

import engineio
from engineio import packet as eio_packet
from engineio.async_drivers.tornado import get_tornado_handler
from tornado.iostream import IOStream

from chatapp.transport.connection import Connection, Readers
from chatapp.transport.frames import frame
from chatapp.transport.handshake import ENVIRON_KEY, Handshake, accept_key
from chatapp.transport.heartbeats import Heartbeats
from chatapp.transport.outbox import Outbox
from chatapp.transport.socket import WebSocketSocket


def engineio_handler(server: engineio.AsyncServer, cookie_name: str) -> type[Any]:
    """python-engineio's Tornado handler class, with WebSocket-first sockets served here;
    of their cookies, each keeps the one named `cookie_name` (the session's)."""
    upstream = get_tornado_handler(server)
    outbox = Outbox()
    readers = Readers()
    heartbeats = Heartbeats(server.ping_interval, server.ping_timeout)

    class EngineIOHandler(upstream):  # type: ignore[misc, valid-type]
        @property
        def opens_a_socket(self) -> bool:
            """A WebSocket with no `sid` (the client's first request, not an upgrade) on a
            plain TCP connection (TLS is the proxy's: deploy/)."""
            request = self.request
            arguments = request.query_arguments
            return (
                request.headers.get("Upgrade", "").lower() == "websocket"
                and "sid" not in arguments
                and arguments.get("transport") == [b"websocket"]
                and arguments.get("EIO") == [b"4"]
                and type(getattr(request.connection, "stream", None)) is IOStream
            )

        async def get(self, *args: Any, **kwargs: Any) -> None:
            if not self.opens_a_socket:
                await super().get(*args, **kwargs)  # polling, an upgrade: python-engineio's
                return
            accept = self.refusal_or_accept_key()
            if accept is None:
                return
            # Tornado lets go of the connection: from here on it is the socket's, and the
            # handler, its request and headers are dropped once this method returns.
            self.set_status(101)
            self.application.log_request(self)
            stream = self.detach()
            # What a client sent past its request, not waiting for the answer as it should
            # (Tornado 6.6 keeps the count in a private field; the bytes come out publicly).
            buffered: int = stream._read_buffer_size
            early = await stream.read_bytes(buffered) if buffered else b""
            connection = stream.socket.dup()
            stream.close()
            sid = server.generate_id()
            socket = WebSocketSocket(server, sid, outbox, heartbeats)
            # Not read before the connect is through.
            transport = Connection(connection, socket, readers)
            transport.write(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept.encode() + b"\r\n\r\n"
            )
            server.sockets[sid] = socket
            socket.write(frame(eio_packet.Packet(eio_packet.OPEN, _handshake(sid)).encode()))
            environ = {ENVIRON_KEY: Handshake.of(self.request, keep=cookie_name)}
            accepted = await server._trigger_event("connect", sid, environ, run_async=False)
            if accepted is not None and accepted is not True:
                server.sockets.pop(sid, None)
                socket.closed = True  # nothing more is written but what is queued
                socket.flush()
                transport.close()
                return
            socket.opened()
            transport.resume_reading()
            if early:
                socket.data_received(early)

        def refusal_or_accept_key(self) -> str | None:
            """The answer's key; or None, the refusal sent (as Tornado's WebSocketHandler)."""
            headers = self.request.headers
            connection = {
                token.strip().lower() for token in headers.get("Connection", "").split(",")
            }
            origin = headers.get("Origin")
            accept = accept_key(headers.get("Sec-WebSocket-Key", ""))
            if "upgrade" not in connection:
                self.set_status(400)
                self.finish('"Connection" must be "Upgrade".')
            elif origin is not None and not self.check_origin(origin):
                self.set_status(403)
                self.finish("Cross origin websockets not allowed")
            elif headers.get("Sec-WebSocket-Version") != "13":
                self.set_status(426, "Upgrade Required")
                self.set_header("Sec-WebSocket-Version", "13")
                self.finish()
            elif accept is None:
                self.set_status(400)
                self.finish("Missing/Invalid WebSocket headers")
            return accept if self.get_status() == 200 else None

    def _handshake(sid: str) -> dict[str, Any]:
        """The OPEN packet's data, as python-engineio makes it for a WebSocket."""
        return {
            "sid": sid,
            "upgrades": [],
            "pingTimeout": int(server.ping_timeout * 1000),
            # In milliseconds, rounded after scaling (python-engineio rounds seconds first,
            # so a 0.5 s interval went out as 0).
            "pingInterval": int((server.ping_interval + server.ping_interval_grace_period) * 1000),
            "maxPayload": server.max_http_buffer_size,
        }

    return EngineIOHandler
