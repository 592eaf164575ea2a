"""The rooms each socket is in, so that leaving costs what the socket joined, not every room.

python-socketio 5.x's `BaseManager.basic_disconnect` copies and scans every
room of the namespace to find a socket's (and so does `get_rooms`): each
disconnect cost O(all rooms), three per connected socket here (its own, its
user's, its session's), which made 10,000 sockets leaving at once quadratic.
`RoomIndex` keeps `socket -> its rooms` beside python-socketio's
`rooms[namespace][room][sid]` and answers both from it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import socketio


class RoomIndex(socketio.AsyncManager):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: namespace -> sid -> the rooms it is in (None, its own sid room included).
        self._rooms_of: dict[str, dict[str, set[Any]]] = {}

    def basic_enter_room(self, sid: str, namespace: str, room: Any, eio_sid: Any = None) -> None:
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)
        self._rooms_of.setdefault(namespace, {}).setdefault(sid, set()).add(room)

    def basic_leave_room(self, sid: str, namespace: str, room: Any) -> None:
        super().basic_leave_room(sid, namespace, room)
        rooms = self._rooms_of.get(namespace, {}).get(sid)
        if rooms is not None:
            rooms.discard(room)
            if not rooms:
                self._forget(sid, namespace)

    def basic_disconnect(self, sid: str, namespace: str, **kwargs: Any) -> None:
        """python-socketio's, with the socket's rooms looked up instead of searched for."""
        for room in list(self._rooms_of.get(namespace, {}).get(sid, ())):
            self.basic_leave_room(sid, namespace, room)
        self.callbacks.pop(sid, None)
        for pending in (self.pending_connect, self.pending_disconnect):
            waiting = pending.get(namespace)
            if waiting is not None and sid in waiting:
                waiting.remove(sid)
                if not waiting:
                    del pending[namespace]

    def get_participants(self, namespace: str, room: Any) -> Iterable[tuple[str, str]]:
        """python-socketio's (sid, eio_sid) of everyone in `room`, or in any of a list of
        rooms, each once; a copy, since sending to them may await. Its own spent an eighth
        of a post's fan-out to 1,000 friends' rooms in a generator and double look-ups."""
        rooms = self.rooms.get(namespace)
        if not rooms:
            return ()
        if isinstance(room, str) or not hasattr(room, "__len__"):
            members = rooms.get(room)
            return members._fwdm.copy().items() if members is not None else ()
        found: dict[str, str] = {}
        for name in room:
            members = rooms.get(name)
            if members is not None:
                found.update(members._fwdm)
        return found.items()

    def get_rooms(self, sid: str, namespace: str) -> list[Any]:
        rooms = self._rooms_of.get(namespace, {}).get(sid, ())
        return [room for room in rooms if room is not None]

    def _forget(self, sid: str, namespace: str) -> None:
        sockets = self._rooms_of[namespace]
        del sockets[sid]
        if not sockets:
            del self._rooms_of[namespace]
