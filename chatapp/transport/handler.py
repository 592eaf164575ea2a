"""The Tornado handler at /socket.io/: a WebSocket that opens a socket takes chatapp's own
path (`WebSocketSocket`); long-polling, and a polling socket's upgrade, python-engineio's."""

from __future__ import annotations

from typing import Any

import engineio
from engineio import packet as eio_packet
from engineio.async_drivers.tornado import get_tornado_handler

from chatapp.transport.frames import frame
from chatapp.transport.outbox import Outbox
from chatapp.transport.socket import WebSocketSocket


def engineio_handler(server: engineio.AsyncServer) -> type[Any]:
    """python-engineio's Tornado handler class, with WebSocket-first sockets served here."""
    upstream = get_tornado_handler(server)
    outbox = Outbox()

    class EngineIOHandler(upstream):  # type: ignore[misc, valid-type]
        #: This connection's socket, when it opened on a WebSocket of its own.
        socket: WebSocketSocket | None = None

        @property
        def opens_a_socket(self) -> bool:
            """A WebSocket with no `sid`: the client's first request, not an upgrade."""
            arguments = self.request.query_arguments
            return (
                self.request.headers.get("Upgrade", "").lower() == "websocket"
                and "sid" not in arguments
                and arguments.get("transport") == [b"websocket"]
                and arguments.get("EIO") == [b"4"]
            )

        async def open(self, *args: Any, **kwargs: Any) -> None:
            if not self.opens_a_socket:
                await super().open(*args, **kwargs)  # an upgrade: python-engineio's own
                return
            self.receive_queue = None  # python-engineio's, unused here
            sid = server.generate_id()
            socket = WebSocketSocket(server, sid, self, outbox)
            server.sockets[sid] = socket
            self.socket = socket
            socket.write(frame(eio_packet.Packet(eio_packet.OPEN, _handshake(sid)).encode()))
            # Only the handler: python-socketio keeps the environ for the socket's lifetime,
            # and chatapp reads everything from the request the handler holds anyway.
            environ = {"tornado.handler": self}
            accepted = await server._trigger_event("connect", sid, environ, run_async=False)
            if accepted is not None and accepted is not True:
                server.sockets.pop(sid, None)
                self.socket = None
                socket.flush()
                self.close()
                return
            socket.opened()

        async def on_message(self, message: str | bytes) -> None:
            if self.socket is None:
                await super().on_message(message)
                return
            started = self.socket.received(message)
            if started is not None:
                await started

        def on_close(self) -> None:
            if self.socket is None:
                super().on_close()
            else:
                self.socket.lost()

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
