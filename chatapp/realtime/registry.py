"""userSockets: the one way HTTP handlers and socket events reach a user's sockets.

Backed by Socket.IO rooms, so with `[socketio] message_queue` set a push
reaches the user's sockets in every process. Each socket is in two rooms:

    user:<user id>                   every tab of the user, in every process
    session:<sha256(session id)>     the sockets of one login (the id is never a room name)

Presence and "end these sockets" orders go through `Presence` and `Control`,
which are in-process for one process and on Redis for several.

A socket is in its rooms from the moment its connect handler registers it,
before the connect has completed: an order to end its session that arrives
while it is still connecting is remembered (`LocalSocket.ended`) and carried
out as soon as python-socketio reports it connected. No socket outlives its
session, whatever the timing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import socketio

from chatapp.ratelimit import TokenBucket
from chatapp.realtime.acks import after_ack
from chatapp.realtime.control import Control, Order
from chatapp.realtime.deadlines import SessionDeadlines
from chatapp.realtime.delivery import MEMBERSHIP, TOGETHER, Deliveries, Push
from chatapp.realtime.presence import Presence
from chatapp.times import iso_epoch
from stores.base import SessionRecord, SessionStore

log = logging.getLogger(__name__)
NAMESPACE = "/"

#: Whose sockets hear about a user's presence: the social layer answers "their friends".
Audience = Callable[[str], Awaitable[Iterable[str]]]
#: The user as shown to others (`{"id", "username", "display_name"}`), looked up now.
Profile = Callable[[str], Awaitable[dict[str, Any] | None]]
#: The ids of the group chats a user is a member of, read from the store now.
Memberships = Callable[[str], Awaitable[Iterable[str]]]


def user_room(user_id: str) -> str:
    return f"user:{user_id}"


def chat_room(room_id: str) -> str:
    """The Socket.IO room of a group chat's members' sockets."""
    return f"chatroom:{room_id}"


def session_room(session_id: str) -> str:
    """The room of a session's sockets, named by its store key (already a hash of the
    cookie's id: chatapp.sessions.session.store_key), so room names open nothing."""
    return f"session:{session_id}"


async def nobody(user_id: str) -> Iterable[str]:
    return ()


async def only_id(user_id: str) -> dict[str, Any]:
    return {"id": user_id}


def expiring(record: SessionRecord) -> dict[str, Any]:
    """`session:expiring`'s data."""
    return {"expires_at": iso_epoch(record.expires_at), "extendable": record.extendable}


@dataclass(frozen=True)
class Directory:
    """What the registry asks of the social layer, given when it is built."""

    #: Whose sockets hear about a user's presence: their friends.
    audience: Audience = nobody
    #: The user as others see them, for a presence event.
    profile: Profile = only_id
    #: The group chats a socket joins when it connects.
    memberships: Memberships = nobody


@dataclass(slots=True)
class LocalSocket:
    """What this process knows of one of its sockets (one per socket: slots)."""

    user_id: str
    session_id: str
    events: TokenBucket
    #: Why its session ended while it was still connecting: end it once connected.
    ended: str | None = None
    #: When its session ends, as its connect renewed it (watched once it is connected).
    expires_at: float = 0.0


class UserSockets:
    def __init__(
        self,
        sio: socketio.AsyncServer,
        presence: Presence,
        control: Control,
        store: SessionStore,
        directory: Directory | None = None,
    ) -> None:
        self.sio = sio
        self.presence = presence
        self.control = control
        self.store = store
        self.deliveries = Deliveries(sio)
        self._local: dict[str, LocalSocket] = {}
        #: When each session with sockets here is warned of its end, and ends.
        self.deadlines = SessionDeadlines(
            lambda: store.clock(),  # read at each use: tests move the store's clock
            load=store.load,
            warn=self._warn_session,
            expire=self._expire_session,
        )
        self.directory = directory or Directory()

    async def start(self) -> None:
        # Presence first: it fails fast (connect timeout) when Redis is down.
        await self.presence.start(self._announce_offline)
        await self.control.start(self._carry_out)
        self.deliveries.start()

    async def stop(self) -> None:
        self.deadlines.stop()
        await self.presence.stop()
        await self.control.stop()

    # -- pushing -----------------------------------------------------------------------

    async def push_to_user(
        self, user_id: str, event: str, data: Any, *, skip_sid: str | None = None
    ) -> None:
        """Every socket of the user, in every tab and process, except `skip_sid`; soon
        (chatapp.realtime.delivery), in the order of the pushes."""
        await self.deliveries.put(Push(event, data, user_room(user_id), skip_sid))

    async def push_to_users(
        self, user_ids: Iterable[str], event: str, data: Any, *, skip_sid: str | None = None
    ) -> None:
        """One emit to many users' rooms: a socket in several of them gets it once."""
        rooms = sorted({user_room(u) for u in user_ids})
        if rooms:
            await self.deliveries.put(Push(event, data, rooms, skip_sid))

    async def push_all_to_users(
        self, user_ids: Iterable[str], events: list[tuple[str, Any]]
    ) -> None:
        """Several events to the same users, as one push: each socket is looked up once and
        written them all, in order."""
        await self.push_to_users(user_ids, TOGETHER, [list(event) for event in events])

    async def push_to_room(
        self, room_id: str, event: str, data: Any, *, skip_sid: str | None = None
    ) -> None:
        """Every socket of the group chat's members, in every process, except `skip_sid`."""
        await self.deliveries.put(Push(event, data, chat_room(room_id), skip_sid))

    async def room_joined(self, user_id: str, room_id: str) -> None:
        """The user's sockets, in every process, receive the room from now on."""
        order = {"enter": chat_room(room_id)}
        await self.deliveries.put(Push(MEMBERSHIP, order, user_room(user_id)))

    async def room_left(self, user_id: str, room_id: str) -> None:
        """The user's sockets, in every process, receive nothing more of the room: what is
        pushed to it after this reaches none of them (the order goes the pushes' way)."""
        order = {"leave": chat_room(room_id)}
        await self.deliveries.put(Push(MEMBERSHIP, order, user_room(user_id)))

    async def is_online(self, user_id: str) -> bool:
        return await self.presence.count(user_id) > 0

    async def online_among(self, user_ids: Iterable[str]) -> set[str]:
        """Those of the users with a socket open in some process (one store round trip)."""
        return await self.presence.online(user_ids)

    async def socket_count(self, user_id: str) -> int:
        return await self.presence.count(user_id)

    async def logins_changed(self, user_id: str) -> None:
        """`sessions:changed` to the user's pages: a login ended, a tab opened or closed."""
        await self.push_to_user(user_id, "sessions:changed", {})

    async def session_socket_count(self, session_id: str) -> int:
        """The sockets of one login, in every process."""
        return await self.presence.count(session_room(session_id))

    # -- ending sessions ----------------------------------------------------------------

    async def end_session(self, session_id: str, reason: str) -> None:
        """Send `session:ended` to every socket of the session, then disconnect them, everywhere.

        Ended by one of its own sockets' events (`auth:logout`), that socket gets its ack first.
        """
        order = {"end": session_room(session_id), "reason": reason}
        await after_ack(lambda: self.control.publish(order))

    async def rebind_session(self, old_id: str, new_id: str) -> None:
        """Move every socket of a session to its new id, in every process (see Session).

        The new id travels on the control channel, which is as private as the
        session store itself.
        """
        await self.control.publish({"rebind": session_room(old_id), "to": new_id})

    async def close_all(self, within: float) -> None:
        """Close this process's connections so that clients come back: before shutting down.

        An engine.io close, not a Socket.IO disconnect: a client told "the
        server disconnected you" does not retry, one whose transport closed
        reconnects (to the next process, after a restart) by itself. Presence
        is updated as for any disconnect. python-engineio then waits for each
        close packet to be taken, which a client already gone never does:
        bounded by `within`. Pushes already made go out first (bounded alike).
        """
        await self.deliveries.stop(within)
        eio_sids = [self.sio.manager.eio_sid_from_sid(sid, NAMESPACE) for sid in self._local]
        closing = [asyncio.ensure_future(self.sio.eio.disconnect(e)) for e in eio_sids if e]
        if closing:
            await asyncio.wait(closing, timeout=within)

    async def end_local_socket(self, sid: str, reason: str) -> None:
        """End one socket of this process: tell it why, then disconnect it.

        A socket still connecting cannot be disconnected yet: it is marked, and
        `connected` ends it the moment its connect completes.
        """
        if not self.sio.manager.is_connected(sid, NAMESPACE):
            socket = self._local.get(sid)
            if socket is not None:
                socket.ended = reason
            return
        await self.sio.emit("session:ended", {"reason": reason}, to=sid, ignore_queue=True)
        await self.sio.disconnect(sid, ignore_queue=True)

    async def connected(self, sid: str) -> None:
        """Called once a socket's connect has completed: end it if its session ended meanwhile.

        Otherwise the user's pages hear of one more open tab (`sessions:changed`): only
        now, since a socket must not get an event before its connect is answered.
        """
        socket = self._local.get(sid)
        if socket is None:
            return
        if socket.ended is not None:
            await self.end_local_socket(sid, socket.ended)
        else:
            self.session_seen(socket.session_id, socket.expires_at)
            warned = self.deadlines.warning_sent(socket.session_id)
            if warned is not None and warned.expires_at == socket.expires_at:  # a tab opened since
                await self.sio.emit("session:expiring", expiring(warned), to=sid, ignore_queue=True)
            await self.logins_changed(socket.user_id)

    async def _carry_out(self, order: Order) -> None:
        room = order.get("end") or order.get("rebind")
        if not isinstance(room, str):
            return
        local = [sid for sid, _ in self.sio.manager.get_participants(NAMESPACE, room)]
        new_id = order.get("to")
        if local and not isinstance(new_id, str):
            log.info("ending %d socket(s) of a session here: %s", len(local), order.get("reason"))
        for sid in local:
            if isinstance(new_id, str):
                await self._move(sid, new_id)
            else:
                await self.end_local_socket(sid, str(order.get("reason", "ended")))
        await self._carry_out_elsewhere(room, new_id)

    async def _carry_out_elsewhere(self, room: str, new_id: Any) -> None:
        """A session's sockets in other namespaces (the Admin UI's: chatapp.realtime.admin)
        sit in its room there too: they end with it, or follow it to its new id."""
        manager = self.sio.manager
        for namespace in [n for n in manager.get_namespaces() if n != NAMESPACE]:
            for sid, _ in list(manager.get_participants(namespace, room)):
                if isinstance(new_id, str):
                    await self.sio.leave_room(sid, room, namespace=namespace)
                    await self.sio.enter_room(sid, session_room(new_id), namespace=namespace)
                else:
                    await self.sio.disconnect(sid, namespace=namespace, ignore_queue=True)

    async def _move(self, sid: str, new_id: str) -> None:
        socket = self._local.get(sid)
        if socket is None:
            return
        await self._leave_session(sid, socket)
        socket.session_id = new_id
        await self._join_session(sid, socket)
        self.deadlines.check_soon(new_id)

    async def end_stray_sockets(self) -> int:
        """End this process's sockets whose session ended unheard; periodic, a safety net.

        Sessions end at their deadlines (`deadlines`) and by orders on the control
        channel; an order published while this process had lost that channel is
        never heard, so every session with sockets here is read once per check
        (one store read per session, not per socket). A socket connected here
        that no session vouches for is ended too.
        """
        by_session: dict[str, list[str]] = {}
        strays = []
        for sid, _ in list(self.sio.manager.get_participants(NAMESPACE, None)):
            socket = self._local.get(sid)
            if socket is None:
                strays.append(sid)
            else:
                by_session.setdefault(socket.session_id, []).append(sid)
        for sid in strays:
            await self.end_local_socket(sid, "unauthorized")
        ended = len(strays)
        for session_id, sids in by_session.items():
            if await self.store.load(session_id) is None:
                for sid in sids:
                    await self.end_local_socket(sid, "expired")
                ended += len(sids)
        return ended

    def session_seen(self, session_id: str, expires_at: float) -> None:
        """A socket of this session connected or sent an event: it ends at `expires_at`."""
        self.deadlines.watch(session_id, expires_at)

    def _session_sids(self, session_id: str) -> list[str]:
        return [
            sid for sid, _ in self.sio.manager.get_participants(NAMESPACE, session_room(session_id))
        ]

    async def _warn_session(self, session_id: str, record: SessionRecord) -> bool:
        """`session:expiring` to the session's sockets here whose connect completed (none
        may hear an event before that; one still connecting is warned by `connected`)."""
        sids = self._session_sids(session_id)
        manager = self.sio.manager
        for sid in sids:
            if manager.is_connected(sid, NAMESPACE):
                await self.sio.emit("session:expiring", expiring(record), to=sid, ignore_queue=True)
        return bool(sids)

    async def _expire_session(self, session_id: str) -> None:
        for sid in self._session_sids(session_id):
            await self.end_local_socket(sid, "expired")

    # -- membership, called by the socket namespace ----------------------------------------

    def local(self, sid: str) -> LocalSocket | None:
        return self._local.get(sid)

    async def joined(self, sid: str, socket: LocalSocket) -> None:
        """A socket of this logged-in user is connecting here: its rooms, its presence.

        Undo with `left` if the connect is refused after this.
        """
        self._local[sid] = socket
        await self.sio.enter_room(sid, user_room(socket.user_id))
        await self._join_session(sid, socket)
        await self._join_chat_rooms(sid, socket.user_id)
        if await self.presence.joined(socket.user_id):
            await self._announce(socket.user_id, online=True)

    async def left(self, sid: str) -> None:
        """A socket disconnected here, or its connect was refused after `joined`.

        A socket that is disconnecting is taken out of every room by python-socketio
        itself; leaving them here as well would publish each leave to the message
        queue (the sid no longer counts as local): two Redis round trips per socket,
        which stalled the server for half a minute after 2,000 sockets went at once.
        """
        socket = self._local.pop(sid, None)
        if socket is None:
            return
        if self._here(sid):
            await self.sio.leave_room(sid, user_room(socket.user_id))
            await self.sio.leave_room(sid, session_room(socket.session_id))
        await self.presence.left(session_room(socket.session_id))
        if await self.presence.left(socket.user_id):
            await self._announce(socket.user_id, online=False)
        await self.logins_changed(socket.user_id)

    async def _join_session(self, sid: str, socket: LocalSocket) -> None:
        room = session_room(socket.session_id)
        await self.sio.enter_room(sid, room)
        await self.presence.joined(room)  # counted like a user: for the list of logins

    async def _join_chat_rooms(self, sid: str, user_id: str) -> None:
        """The rooms the user is a member of. Joining and leaving from now on reach this
        socket through its user's room, which it is in already; one that happened between
        the read and the entering is caught by reading again."""
        rooms = set(await self.directory.memberships(user_id))
        for room_id in rooms:
            await self.sio.enter_room(sid, chat_room(room_id))
        if rooms:
            for room_id in rooms - set(await self.directory.memberships(user_id)):
                await self.sio.leave_room(sid, chat_room(room_id))

    def _here(self, sid: str) -> bool:
        """Connected (or connecting) in this process, not on its way out."""
        manager = self.sio.manager
        return bool(
            manager.is_connected(sid, NAMESPACE) or manager.is_pre_connected(sid, NAMESPACE)
        )

    async def _leave_session(self, sid: str, socket: LocalSocket) -> None:
        room = session_room(socket.session_id)
        await self.sio.leave_room(sid, room)
        await self.presence.left(room)

    async def _announce(self, user_id: str, *, online: bool) -> None:
        friends = list(await self.directory.audience(user_id))
        if friends:
            user = await self.directory.profile(user_id) or {"id": user_id}
            await self.push_to_users(friends, "presence", {"user": user, "online": online})

    async def _announce_offline(self, key: str) -> None:
        if not key.startswith("session:"):  # a user, not a login
            await self._announce(key, online=False)
