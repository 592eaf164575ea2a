"""Socket.IO events on namespace "/": thin, like the HTTP handlers.

Every event answers with an ack, `{"ok": true, ...}` or `{"ok": false,
"error": {"code", "message"}}`, and reads the session fresh from the store,
so a change made over HTTP a moment ago is seen; a session that ended ends
the socket. Writes go through the store's retrying read-modify-write, so
concurrent events and HTTP requests never lose each other's keys.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import socketio
from socketio.exceptions import ConnectionRefusedError

from chatapp import validation as check
from chatapp.app import ChatApp
from chatapp.errors import ApiError
from chatapp.realtime.ratelimit import TokenBucket
from chatapp.realtime.registry import LocalSocket
from chatapp.sessions.prefs import parse_prefs, prefs_of
from chatapp.sessions.session import COOKIE_NAME, Session
from chatapp.social.models import User
from stores.errors import SessionGone, StoreUnavailable

log = logging.getLogger(__name__)

Ack = dict[str, Any]
EventHandler = Callable[[str, LocalSocket, Session, dict[str, Any]], Awaitable[Ack]]


def failure(code: str, message: str) -> Ack:
    return {"ok": False, "error": {"code": code, "message": message}}


class SessionEnded(Exception):
    """The socket's session is gone: end the socket after acking."""


class ChatNamespace(socketio.AsyncNamespace):  # type: ignore[misc]
    def __init__(self, app: ChatApp) -> None:
        super().__init__("/")
        self.app = app
        self.sockets = app.sockets
        self.events: dict[str, EventHandler] = {
            "session:get": self.session_get,
            "prefs:set": self.prefs_set,
            "auth:logout": self.auth_logout,
            "profile:rename": self.profile_rename,
            "chat:send": self.chat_send,
        }
        self._pending: set[asyncio.Future[None]] = set()

    # -- connecting ----------------------------------------------------------------------

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        cookie = environ["tornado.handler"].get_cookie(COOKIE_NAME)
        io = self.app.config.socketio
        try:
            session = await self.app.cookies.load(cookie)
            user = session.get("user")
            if session.user_id is None or session.id is None or not isinstance(user, dict):
                raise ConnectionRefusedError("unauthorized")
            if await self.sockets.socket_count(session.user_id) >= io.max_sockets_per_user:
                raise ConnectionRefusedError("too_many_sockets")
            socket = LocalSocket(
                user, session.id, TokenBucket(io.events_per_second, io.event_burst)
            )
            await self.sockets.joined(sid, socket)
            await session.renew_if_due(self.app.cookies.touch_interval)
        except StoreUnavailable as exc:
            log.warning("socket refused, store unavailable: %s", exc)
            raise ConnectionRefusedError("unavailable") from None

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        try:
            await self.sockets.left(sid)
        except Exception:  # presence is best effort; the socket is gone either way
            log.exception("presence update on disconnect failed")

    # -- every event -------------------------------------------------------------------------

    async def trigger_event(self, event: str, sid: str, *args: Any) -> Any:
        if event in ("connect", "disconnect"):
            return await super().trigger_event(event, sid, *args)
        try:
            return await self._handle(event, sid, args)
        except SessionEnded:
            self.after_ack(self.sockets.end_local_socket(sid, "expired"))
            return failure("session_ended", "the session has ended; log in again")
        except ApiError as exc:
            return failure(exc.code, exc.message)
        except StoreUnavailable as exc:
            log.warning("socket event %r: %s", event, exc)
            return failure("backend_unavailable", "a backing server is unavailable; try again soon")
        except Exception:
            log.exception("socket event %r failed", event)
            return failure("internal_error", "the event could not be handled")

    async def _handle(self, event: str, sid: str, args: tuple[Any, ...]) -> Ack:
        socket = self.sockets.local(sid)
        if socket is None:
            raise ApiError(401, "unauthorized", "this socket is not logged in")
        if not socket.events.take():
            raise ApiError(429, "rate_limited", "too many events; slow down")
        handler = self.events.get(event)
        if handler is None:
            raise ApiError(400, "unknown_event", f"unknown event: {str(event)[:64]}")
        if len(args) > 1 or (args and args[0] is not None and not isinstance(args[0], dict)):
            raise ApiError(400, "invalid_payload", "send one JSON object (or nothing)")
        data = args[0] if args and args[0] is not None else {}
        record = await self.app.store.load(socket.session_id)
        if record is None:
            raise SessionEnded
        session = self.app.cookies.session(record)
        await session.renew_if_due(self.app.cookies.touch_interval)
        return {"ok": True, **await handler(sid, socket, session, data)}

    def after_ack(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` just after the ack: python-socketio sends it when the handler returns."""

        async def later() -> None:
            await asyncio.sleep(0.05)
            await work

        task = asyncio.ensure_future(later())
        self._pending.add(task)  # keep a reference until done
        task.add_done_callback(self._pending.discard)

    async def update_session(
        self, session: Session, mutate: Callable[[dict[str, Any]], None]
    ) -> dict[str, Any]:
        """Change the session through the store's retrying read-modify-write."""
        record = session.record
        assert record is not None  # events run on a loaded session
        try:
            saved = await self.app.store.modify(record.id, mutate, loaded=record)
        except SessionGone:
            raise SessionEnded from None
        return dict(saved.data)

    # -- the events ----------------------------------------------------------------------------

    async def session_get(
        self, sid: str, socket: LocalSocket, session: Session, data: dict[str, Any]
    ) -> Ack:
        check.fields(data, set())
        return {"user": session.get("user"), "prefs": prefs_of(session)}

    async def prefs_set(
        self, sid: str, socket: LocalSocket, session: Session, data: dict[str, Any]
    ) -> Ack:
        wanted = parse_prefs(data)
        stored = await self.update_session(
            session, lambda d: d.update(prefs={**prefs_of(d), **wanted})
        )
        return {"prefs": prefs_of(stored)}

    async def auth_logout(
        self, sid: str, socket: LocalSocket, session: Session, data: dict[str, Any]
    ) -> Ack:
        check.fields(data, set())
        await self.app.store.destroy(socket.session_id)
        # Every socket of the session gets session:ended, this one too, after this ack.
        self.after_ack(self.sockets.end_session(socket.session_id, "logout"))
        return {}

    async def profile_rename(
        self, sid: str, socket: LocalSocket, session: Session, data: dict[str, Any]
    ) -> Ack:
        check.fields(data, {"display_name"})
        name = check.display_name(data["display_name"])
        user = await self.app.social.rename(_user(session), name, skip_sid=sid)
        await self.update_session(session, lambda d: d.update(user=user.public()))
        socket.user = user.public()  # presence announces the new name
        return {"user": user.public()}

    async def chat_send(
        self, sid: str, socket: LocalSocket, session: Session, data: dict[str, Any]
    ) -> Ack:
        check.fields(data, {"to", "text"})
        recipient = check.username(data["to"])
        message = await self.app.social.message(
            _user(session), recipient, check.text(data["text"]), skip_sid=sid
        )
        return {"message": message.public()}


def _user(session: Session) -> User:
    user = User.from_public(session.get("user"))
    if user is None:
        raise SessionEnded
    return user
