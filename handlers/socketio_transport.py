"""The engine.io endpoint at /socket.io/, both transports, on Tornado (chatapp.transport)."""

from __future__ import annotations

import base64
import binascii
import logging
from typing import Any

import engineio.payload

from chatapp.app import ChatApp
from chatapp.errors import Answer, ApiError, ServiceUnavailable, answer_for
from chatapp.transport import engineio_handler, handshake_of

log = logging.getLogger(__name__)
#: The first character of every Engine.IO 4 text frame: its packet type (open ... noop).
ENGINE_IO_PACKET_TYPES = frozenset("0123456")


def socketio_handler(app: ChatApp) -> type[Any]:
    """The Engine.IO handler (chatapp.transport) with chatapp's origin rule, bound to the cookie.

    Polling POSTs carry no XSRF token and need none: engine.io refuses a
    foreign Origin itself (OriginPolicy, via cors_allowed_origins), a POST
    must name a live engine.io session id that only its own client knows,
    and the session cookie is SameSite=Lax. The WebSocket upgrade is checked
    here, so a foreign page gets a clean 403, never a 101 that then hangs.

    An engine.io `sid` is a bearer token for its connection: whoever knows it
    may send events as the user and read their pushes. So every request naming
    a `sid` must carry the same session cookie as the handshake that created
    it (403 otherwise), and the access log never shows it (see app.log_request).
    A handshake from an address that already holds `[socketio]
    max_connections_per_address` open connections, or that opened more than
    `[limits] socket_connections_per_minute` allows, is refused (429) before
    python-engineio does any work, logged in or not: a client connecting and
    leaving in a loop otherwise held a core with handshakes alone.
    """
    sio, origins, cookie_name = app.sio, app.origins, app.cookies.name
    max_per_address = app.config.socketio.max_connections_per_address
    new_connections = app.limits.socket_connections
    base = engineio_handler(sio.eio, cookie_name)

    class SocketIOHandler(base):  # type: ignore[misc, valid-type]
        def set_default_headers(self) -> None:
            self.set_header("X-Content-Type-Options", "nosniff")

        def check_xsrf_cookie(self) -> None:
            pass

        async def prepare(self) -> None:
            # Every request, both transports, before python-engineio: Tornado (6.6) lets a
            # WebSocket upgrade whose Origin differs only by scheme through unasked.
            origin = self.request.headers.get("Origin")
            if origin is not None and not origins.allows(origin, self.request):
                self.refuse(
                    Answer(403, "forbidden", "this page's origin may not open a connection here")
                )
                return
            eio_sid = self.get_query_argument("sid", None)
            if eio_sid is None:  # a handshake: python-engineio answers, within the caps
                address = self.request.remote_ip or ""
                if sio.connections_from[address] >= max_per_address:
                    log.warning("socket refused: %s has too many open", address)
                    self.refuse(Answer(429, "too_many_connections", "too many open connections"))
                    return
                try:
                    await new_connections.spend(address)
                except ApiError as refusal:  # not logged: a flood would flood the log
                    self.refuse(refusal.answer)
                except ServiceUnavailable as down:  # the shared Redis, where counts are kept
                    log.warning("socket refused: %s", down)
                    self.refuse(answer_for(down))
                return
            handshake = sio.environ.get(eio_sid)
            if handshake is None:  # python-engineio would echo the sid back as text
                self.refuse(Answer(400, "unknown_connection", "no such connection; open a new one"))
            elif self.request.method == "POST" and (fault := payload_fault(self.request.body)):
                log.warning("malformed Engine.IO payload (%s); refused", fault)
                self.refuse(Answer(400, "malformed_payload", f"not an Engine.IO payload: {fault}"))
            elif handshake_of(handshake).cookie(cookie_name) != self.get_cookie(cookie_name):
                self.refuse(Answer(403, "forbidden", "this connection belongs to another session"))

        async def on_message(self, message: str | bytes) -> None:
            """python-engineio takes a WebSocket text frame apart outside any `try`: one
            that starts with no packet type (0 to 6) killed its task with a traceback and
            left the connection open and silent (7 to 9: a traceback per frame). Such a
            frame ends the connection with one log line (as a frame Socket.IO cannot
            decode does: ChatServer)."""
            if isinstance(message, str) and message[:1] not in ENGINE_IO_PACKET_TYPES:
                log.warning("malformed Engine.IO frame; closing its connection")
                self.close(1002, "malformed frame")
                return
            await super().on_message(message)

        def refuse(self, answer: Answer) -> None:
            self.set_status(answer.status)
            for name, value in answer.headers.items():
                self.set_header(name, value)
            self.set_header("Content-Type", "application/json; charset=UTF-8")
            self.finish(answer.json())

        def check_origin(self, origin: str) -> bool:
            return origins.allows(origin, self.request)

        def get_compression_options(self) -> None:
            """Decline permessage-deflate, which every browser offers and python-engineio
            accepts with zlib's full window: about 120 kB of server memory per idle
            socket (bench/compare.py, idle) to save about 250 bytes per chat message
            (bench/deflate_worth.py). See docs/PERFORMANCE.md."""
            return None

    return SocketIOHandler


def payload_fault(body: bytes) -> str | None:
    """What in a polling POST body python-engineio would fail to take apart, or None.

    It decodes the body outside any handling of its own, logs a traceback
    and answers 200 ("ok") for what it could not read; chatapp refuses such a
    body with 400 before it gets there. Checked: UTF-8, at most
    `Payload.max_decode_packets` packets, each starting with its type (or `b`
    and strict base64 for binary). JSONP (`d=`) is not served.
    """
    try:
        packets = body.decode("utf-8").split("\x1e")
    except UnicodeDecodeError:
        return "not UTF-8"
    if len(packets) > engineio.payload.Payload.max_decode_packets:
        return "too many packets"
    for packet in packets:
        if packet.startswith("b"):
            try:
                base64.b64decode(packet[1:], validate=True)
            except binascii.Error:
                return "bad base64"
        elif packet[:1] not in ENGINE_IO_PACKET_TYPES:
            return "no packet type"
    return None
