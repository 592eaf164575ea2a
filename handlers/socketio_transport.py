"""The engine.io endpoint at /socket.io/, both transports, on Tornado."""

from __future__ import annotations

from typing import Any

import socketio

from chatapp.realtime.origins import OriginPolicy


def socketio_handler(sio: socketio.AsyncServer, origins: OriginPolicy) -> type[Any]:
    """python-engineio's Tornado handler with chatapp's origin rule and no XSRF check.

    Polling POSTs carry no XSRF token and need none: engine.io refuses a
    foreign Origin itself (OriginPolicy, via cors_allowed_origins), a POST
    must name a live engine.io session id that only its own client knows,
    and the session cookie is SameSite=Lax. The WebSocket upgrade is checked
    here, so a foreign page gets a clean 403, never a 101 that then hangs.
    """
    base = socketio.get_tornado_handler(sio)

    class SocketIOHandler(base):  # type: ignore[misc, valid-type]
        def check_xsrf_cookie(self) -> None:
            pass

        def check_origin(self, origin: str) -> bool:
            return origins.allows(origin, self.request)

    return SocketIOHandler
