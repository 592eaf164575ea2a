"""The engine.io endpoint at /socket.io/, both transports, on Tornado."""

from __future__ import annotations

import json
from typing import Any

import socketio

from chatapp.realtime.origins import OriginPolicy
from chatapp.sessions.cookies import COOKIE_NAME


def socketio_handler(sio: socketio.AsyncServer, origins: OriginPolicy) -> type[Any]:
    """python-engineio's Tornado handler with chatapp's origin rule, bound to the cookie.

    Polling POSTs carry no XSRF token and need none: engine.io refuses a
    foreign Origin itself (OriginPolicy, via cors_allowed_origins), a POST
    must name a live engine.io session id that only its own client knows,
    and the session cookie is SameSite=Lax. The WebSocket upgrade is checked
    here, so a foreign page gets a clean 403, never a 101 that then hangs.

    An engine.io `sid` is a bearer token for its connection: whoever knows it
    may send events as the user and read their pushes. So every request naming
    a `sid` must carry the same session cookie as the handshake that created
    it (403 otherwise), and the access log never shows it (see app.log_request).
    """
    base = socketio.get_tornado_handler(sio)

    class SocketIOHandler(base):  # type: ignore[misc, valid-type]
        def check_xsrf_cookie(self) -> None:
            pass

        async def prepare(self) -> None:
            # Every request, both transports, before python-engineio: Tornado (6.6) lets a
            # WebSocket upgrade whose Origin differs only by scheme through unasked.
            origin = self.request.headers.get("Origin")
            if origin is not None and not origins.allows(origin, self.request):
                self.refuse("this page's origin may not open a connection here")
                return
            eio_sid = self.get_query_argument("sid", None)
            handshake = sio.environ.get(eio_sid) if eio_sid else None
            if handshake is None:
                return  # a handshake, or an unknown sid: python-engineio answers
            if handshake["tornado.handler"].get_cookie(COOKIE_NAME) != self.get_cookie(COOKIE_NAME):
                self.refuse("this connection belongs to another session")

        def refuse(self, message: str) -> None:
            self.set_status(403)
            self.set_header("Content-Type", "application/json; charset=UTF-8")
            self.set_header("X-Content-Type-Options", "nosniff")
            self.finish(json.dumps({"error": {"code": "forbidden", "message": message}}))

        def check_origin(self, origin: str) -> bool:
            return origins.allows(origin, self.request)

        def get_compression_options(self) -> None:
            """Decline permessage-deflate, which every browser offers and python-engineio
            accepts with zlib's full window: about 120 kB of server memory per idle
            socket (bench/realtime.py) to save about 250 bytes per chat message
            (bench/deflate_worth.py). See docs/PERFORMANCE.md."""
            return None

    return SocketIOHandler
