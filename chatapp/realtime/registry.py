"""userSockets: the one way HTTP handlers and socket events reach a user's sockets.

Backed by Socket.IO rooms, so with `[socketio] message_queue` set a push
reaches the user's sockets in every process. Each socket is in two rooms:

    user:<user id>                   every tab of the user, in every process
    session:<sha256(session id)>     the sockets of one login (the id is never a room name)

Presence and "end these sockets" orders go through `Presence` and `Control`,
which are in-process for one process and on Redis for several.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import socketio

from chatapp.realtime.control import Control, Order
from chatapp.realtime.presence import Presence
from chatapp.realtime.ratelimit import TokenBucket
from stores.base import SessionStore

log = logging.getLogger(__name__)
NAMESPACE = "/"

#: Whose sockets hear about a user's presence: the social layer answers "their friends".
Audience = Callable[[str], Awaitable[Iterable[str]]]


def user_room(user_id: str) -> str:
    return f"user:{user_id}"


def session_room(session_id: str) -> str:
    return "session:" + hashlib.sha256(session_id.encode()).hexdigest()[:32]


async def nobody(user_id: str) -> Iterable[str]:
    return ()


@dataclass
class LocalSocket:
    """What this process knows of one of its sockets."""

    user: dict[str, Any]
    session_id: str
    events: TokenBucket


class UserSockets:
    def __init__(self, sio: socketio.AsyncServer, presence: Presence, control: Control) -> None:
        self.sio = sio
        self.presence = presence
        self.control = control
        self._local: dict[str, LocalSocket] = {}
        #: Set by the social layer; until then presence is announced to no one.
        self.audience: Audience = nobody

    async def start(self) -> None:
        # Presence first: it fails fast (connect timeout) when Redis is down.
        await self.presence.start(self._announce_offline)
        await self.control.start(self._carry_out)

    async def stop(self) -> None:
        await self.presence.stop()
        await self.control.stop()

    # -- pushing -----------------------------------------------------------------------

    async def push_to_user(
        self, user_id: str, event: str, data: Any, *, skip_sid: str | None = None
    ) -> None:
        """Every socket of the user, in every tab and process, except `skip_sid`."""
        await self.sio.emit(event, data, to=user_room(user_id), skip_sid=skip_sid)

    async def push_to_users(
        self, user_ids: Iterable[str], event: str, data: Any, *, skip_sid: str | None = None
    ) -> None:
        """One emit to many users' rooms: a socket in several of them gets it once."""
        rooms = sorted({user_room(u) for u in user_ids})
        if rooms:
            await self.sio.emit(event, data, to=rooms, skip_sid=skip_sid)

    async def push_to_session(self, session_id: str, event: str, data: Any) -> None:
        """The sockets of one login."""
        await self.sio.emit(event, data, to=session_room(session_id))

    async def is_online(self, user_id: str) -> bool:
        return await self.presence.count(user_id) > 0

    async def socket_count(self, user_id: str) -> int:
        return await self.presence.count(user_id)

    # -- ending sessions ----------------------------------------------------------------

    async def end_session(self, session_id: str, reason: str) -> None:
        """Send `session:ended` to every socket of the session, then disconnect them, everywhere."""
        await self.control.publish({"end": session_room(session_id), "reason": reason})

    async def disconnect_all(self) -> None:
        """Disconnect this process's sockets, their presence updated: before shutting down."""
        for sid in list(self._local):
            await self.sio.disconnect(sid, ignore_queue=True)

    async def end_local_socket(self, sid: str, reason: str) -> None:
        """End one socket of this process: tell it why, then disconnect it."""
        await self.sio.emit("session:ended", {"reason": reason}, to=sid, ignore_queue=True)
        await self.sio.disconnect(sid, ignore_queue=True)

    async def _carry_out(self, order: Order) -> None:
        room = order.get("end")
        if not isinstance(room, str):
            return
        local = [sid for sid, _ in self.sio.manager.get_participants(NAMESPACE, room)]
        for sid in local:
            await self.end_local_socket(sid, str(order.get("reason", "ended")))

    async def end_expired_sockets(self, store: SessionStore) -> int:
        """End this process's sockets whose session expired; run periodically.

        Sockets that send events find out on their next event; this finds the
        quiet ones. One store read per live session, not per socket.
        """
        by_session: dict[str, list[str]] = {}
        for sid, socket in list(self._local.items()):
            by_session.setdefault(socket.session_id, []).append(sid)
        ended = 0
        for session_id, sids in by_session.items():
            if await store.load(session_id) is None:
                for sid in sids:
                    await self.end_local_socket(sid, "expired")
                ended += len(sids)
        return ended

    # -- membership, called by the socket namespace ----------------------------------------

    def local(self, sid: str) -> LocalSocket | None:
        return self._local.get(sid)

    async def joined(self, sid: str, socket: LocalSocket) -> None:
        """A socket of this logged-in user connected here."""
        self._local[sid] = socket
        await self.sio.enter_room(sid, user_room(socket.user["id"]))
        await self.sio.enter_room(sid, session_room(socket.session_id))
        if await self.presence.joined(socket.user["id"], socket.user):
            await self._announce(socket.user, online=True)

    async def left(self, sid: str) -> None:
        """A socket disconnected here (python-socketio drops its rooms itself)."""
        socket = self._local.pop(sid, None)
        if socket is not None and await self.presence.left(socket.user["id"]):
            await self._announce(socket.user, online=False)

    async def _announce(self, user: dict[str, Any], *, online: bool) -> None:
        friends = await self.audience(user["id"])
        await self.push_to_users(friends, "presence", {"user": user, "online": online})

    async def _announce_offline(self, user_id: str, user: dict[str, Any]) -> None:
        await self._announce({"id": user_id, **user}, online=False)
