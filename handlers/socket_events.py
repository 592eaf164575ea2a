"""Socket.IO events on namespace "/": thin, like the HTTP handlers.

Every event answers with an ack, `{"ok": true, ...}` or `{"ok": false,
"error": {"code", "message"}}` (the same error table as HTTP), and works on
the session exactly as an HTTP request does: read fresh from the store, its
user from the data layer, written through `Session` and committed before the
ack (one store read, at most one store write). A session that ended ends the
socket, after the ack.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import socketio
from socketio.exceptions import ConnectionRefusedError

from chatapp import schemas
from chatapp.app import ChatApp
from chatapp.errors import ApiError, answer_for, is_expected
from chatapp.logs import new_request_id
from chatapp.ratelimit import TokenBucket
from chatapp.realtime.acks import after_ack
from chatapp.realtime.registry import LocalSocket, expiring
from chatapp.schemas import (
    ChatMessage,
    Model,
    Nothing,
    Prefs,
    Rename,
    RoomEvent,
    RoomMessageText,
)
from chatapp.sessions.prefs import prefs_of, set_prefs
from chatapp.sessions.session import Session
from chatapp.social.models import User
from chatapp.times import iso_epoch
from chatapp.transport import handshake_of
from stores.errors import SessionGone

log = logging.getLogger(__name__)

Ack = dict[str, Any]


@dataclass
class Event:
    """One client event: its socket, the session as it is now, and the payload."""

    sid: str
    socket: LocalSocket
    session: Session
    data: dict[str, Any]
    app: ChatApp

    def parse(self, model: type[Model]) -> Model:
        """The payload as this schema, or an ok:false ack that says what is wrong."""
        return schemas.parse(model, self.data)

    async def user(self) -> User:
        """The logged-in user, from the data layer; a session whose account is gone has ended."""
        user = await self.app.accounts.user(self.session.user_id)
        if user is None:
            raise SessionGone(self.socket.session_id)
        return user


class ChatNamespace(socketio.AsyncNamespace):  # type: ignore[misc]
    def __init__(self, app: ChatApp) -> None:
        super().__init__("/")
        self.app = app
        self.sockets = app.sockets
        self.events = {
            "session:get": self.session_get,
            "session:renew": self.session_renew,
            "prefs:set": self.prefs_set,
            "auth:logout": self.auth_logout,
            "profile:rename": self.profile_rename,
            "chat:send": self.chat_send,
            "room:send": self.room_send,
            "room:typing": self.room_typing,
        }

    # -- connecting ----------------------------------------------------------------------

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        """Admit a socket of a logged-in session; a refusal undoes all it registered.

        The socket joins its session's room *before* the session is checked a
        second time, so a logout racing with this connect either is seen by
        that check or reaches the socket through the room.
        """
        cookie = handshake_of(environ).cookie(self.app.cookies.name)
        io = self.app.config.socketio
        registered = False
        try:
            session = await self.app.cookies.load(cookie)
            user_id, session_id = session.user_id, session.id
            if user_id is None or session_id is None:
                raise ConnectionRefusedError("unauthorized")
            if await self.sockets.socket_count(user_id) >= io.max_sockets_per_user:
                raise ConnectionRefusedError("too_many_sockets")
            bucket = TokenBucket(io.events_per_second, io.event_burst)
            socket = LocalSocket(user_id, session_id, bucket)
            await self.sockets.joined(sid, socket)
            registered = True
            expires_at = await self.app.cookies.renew(session_id)
            if expires_at is None:  # ended meanwhile
                raise ConnectionRefusedError("unauthorized")
            socket.expires_at = expires_at
        except ConnectionRefusedError:
            if registered:
                await self.sockets.left(sid)
            raise
        except Exception as exc:
            if registered:
                await self.sockets.left(sid)
            if not is_expected(exc):
                raise
            log.warning("socket refused, %s", exc)
            raise ConnectionRefusedError("unavailable") from None

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        try:
            await self.sockets.left(sid)
        except Exception:  # presence is best effort; the socket is gone either way
            log.exception("presence update on disconnect failed")

    # -- every event -------------------------------------------------------------------------

    async def trigger_event(self, event: str, sid: str, *args: Any) -> Any:
        if event in ("connect", "disconnect"):  # python-socketio's own calls (see ChatServer)
            return await super().trigger_event(event, sid, *args)
        new_request_id()  # this event's log lines, and what it causes, name it
        name = event if event in self.events else "unknown"  # labels stay few
        try:
            ack = {"ok": True, **await self._handle(event, sid, args)}
            self.app.metrics.event(name, "ok")
            return ack
        except Exception as exc:
            answer = answer_for(exc)
            self.app.metrics.event(name, answer.code)
            if isinstance(exc, SessionGone):
                await after_ack(lambda: self.sockets.end_local_socket(sid, "expired"))
            elif not is_expected(exc):
                log.exception("socket event %r failed", event)
            elif not isinstance(exc, ApiError):
                log.warning("socket event %r: %s", event, exc)
            return answer.ack()

    async def _handle(self, event: str, sid: str, args: tuple[Any, ...]) -> Ack:
        socket = self.sockets.local(sid)
        if socket is None:
            raise ApiError(401, "unauthorized", "this socket is not logged in")
        if not socket.events.take():
            raise ApiError(429, "rate_limited", "too many events; slow down")
        handler = self.events.get(event)
        if handler is None:
            raise ApiError(400, "unknown_event", f"unknown event: {event[:64]}")
        if len(args) > 1 or (args and args[0] is not None and not isinstance(args[0], dict)):
            raise ApiError(400, "invalid_payload", "send one JSON object (or nothing)")
        data = args[0] if args and args[0] is not None else {}
        schemas.check_tree(data, depth_code="invalid_payload")
        session = await self.app.cookies.resume(socket.session_id)
        if session is None:
            raise SessionGone(socket.session_id)
        ack = await handler(Event(sid, socket, session, data, self.app))
        await session.commit()
        if session.record is not None:
            self.sockets.session_seen(session.record.id, session.record.expires_at)
        return ack

    # -- the events ----------------------------------------------------------------------------

    async def session_get(self, event: Event) -> Ack:
        event.parse(Nothing)
        user = await event.user()
        await event.session.commit()  # renewed now if due: the expiry it answers is current
        record = event.session.record
        return {
            "user": user.public(),
            "prefs": prefs_of(event.session),
            "expires_at": iso_epoch(record.expires_at) if record else None,
            "extendable": record is not None and record.extendable,
        }

    async def session_renew(self, event: Event) -> Ack:
        """ "Stay logged in": renewed now, whatever the touch throttle. `extendable` is
        false once the session ends at its absolute deadline (a fresh login is needed)."""
        event.parse(Nothing)
        await event.session.renew()
        record = event.session.record
        assert record is not None  # renew raises SessionGone otherwise
        return {**expiring(record), "deadline": iso_epoch(record.deadline)}

    async def prefs_set(self, event: Event) -> Ack:
        return {"prefs": set_prefs(event.session, event.parse(Prefs))}

    async def auth_logout(self, event: Event) -> Ack:
        """The session ends exactly as with POST /api/logout; this socket hears it after the ack."""
        event.parse(Nothing)
        await event.session.destroy()
        return {}

    async def profile_rename(self, event: Event) -> Ack:
        name = event.parse(Rename).display_name
        user = await self.app.social.rename(await event.user(), name, skip_sid=event.sid)
        return {"user": user.public()}

    async def chat_send(self, event: Event) -> Ack:
        chat = event.parse(ChatMessage)
        sender = await event.user()
        await self.app.limits.messages.spend(sender.id)
        message = await self.app.social.message(sender, chat.to, chat.text, skip_sid=event.sid)
        return {"message": message.public()}

    async def room_send(self, event: Event) -> Ack:
        """Members only, as the store says now; every member's sockets but this one."""
        said = event.parse(RoomMessageText)
        sender = await event.user()
        await self.app.limits.messages.spend(sender.id)
        message = await self.app.rooms.send(sender, said.room, said.text, skip_sid=event.sid)
        return {"message": message.public()}

    async def room_typing(self, event: Event) -> Ack:
        room = event.parse(RoomEvent).room
        await self.app.rooms.typing(await event.user(), room, skip_sid=event.sid)
        return {}
