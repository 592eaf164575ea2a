"""The Socket.IO Admin UI (python-socketio's `instrument`), for the users `[admin] users` names.

Why it is shaped so:

- Production mode only. Development mode wraps the server's event dispatch,
  its room changes and every emit (the delivery path: chatapp.realtime.delivery),
  and shows each socket's handshake headers, session cookie included, to
  whoever watches. Production mode reports counts: sockets, connections and
  disconnections, and what long-polling sockets were answered (sockets on
  chatapp's WebSocket are not counted there: GET /metrics has their events).
- Admitted by the login, as every socket here: the UI is served from this
  origin (/admin/), so its socket carries the session cookie, and only a
  session of a listed user is let in. The UI's username and password fields
  are not used.
- Its sockets sit in their session's room of the admin namespace, so a logout
  (or any end of the session, in any process) ends them with the session's
  other sockets (chatapp.realtime.registry).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import socketio
from engineio.async_socket import AsyncSocket

from chatapp.realtime.registry import NAMESPACE as CHAT_NAMESPACE
from chatapp.realtime.registry import session_room
from chatapp.settings import AdminSettings

log = logging.getLogger(__name__)

NAMESPACE = "/admin"

#: What `instrument` replaces on python-engineio's socket class, shared by every server of
#: the process, to count long-polling's requests: put back at once. A second instrumented
#: server (two apps in one process, as in tests) saves the first one's replacement as "the
#: original" under the same name, and a request then calls itself until the stack ends.
#: The UI still counts long-polling's answers (patched on this server only).
SHARED_PATCHES = ("handle_post_request", "_websocket_handler")

#: The session id and username of an admin's login, from a socket's handshake; None for
#: anyone else.
Admits = Callable[[dict[str, Any]], Awaitable[tuple[str, str] | None]]


class AdminUI:
    def __init__(self, sio: socketio.AsyncServer, settings: AdminSettings, admits: Admits) -> None:
        self.sio = sio
        self.admits = admits
        shared = {name: AsyncSocket.__dict__[name] for name in SHARED_PATCHES}
        self.instrumented = sio.instrument(
            auth=False,  # the login decides, in `_connect`
            mode="production",
            read_only=settings.read_only,
            namespace=NAMESPACE,
            server_stats_interval=settings.stats_interval,
        )
        for name, method in shared.items():  # see SHARED_PATCHES
            setattr(AsyncSocket, name, method)
        sio.on("connect", self._connect, namespace=NAMESPACE)
        # Its reports list the namespaces that have function handlers; chatapp's own is a
        # class (handlers.socket_events), so it gets an empty entry, which dispatch passes
        # over to the class.
        sio.handlers.setdefault(CHAT_NAMESPACE, {})

    async def _connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        try:
            admin = await self.admits(environ)
        except Exception:  # a store down: refused, as every socket then
            log.exception("Admin UI refused: the login could not be read")
            raise socketio.exceptions.ConnectionRefusedError("unavailable") from None
        if admin is None:
            raise socketio.exceptions.ConnectionRefusedError("invalid credentials")
        session_id, username = admin
        await self.sio.enter_room(sid, session_room(session_id), namespace=NAMESPACE)
        log.info("Admin UI opened by %s", username)
        await self.instrumented.admin_connect(sid, environ, auth)

    async def stop(self) -> None:
        """Stop the reports."""
        await self.instrumented.shutdown()
