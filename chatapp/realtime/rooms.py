"""Rooms kept for what they are asked most: who is in one, and what one socket is in.

python-socketio 5.x keeps `rooms[namespace][room]` as a `bidict` (two dicts and
an object) for every room, a socket's own sid room included, and finds a
socket's rooms by scanning every room of the namespace (`basic_disconnect`,
`get_rooms`): each disconnect cost O(all rooms), which made 10,000 sockets
leaving at once quadratic, and an idle socket held three bidicts (its own, its
user's, its session's), 1.2 kB. `RoomIndex` keeps the same shape with less:

    rooms[namespace][None]   bidict sid <-> eio_sid of every socket (python-socketio's
                             sid/eio_sid look-ups use it; unchanged)
    rooms[namespace][room]   dict sid -> eio_sid, for the named rooms only
    _rooms_of[namespace][sid]   the named rooms the socket is in, to leave them

A socket's own sid room is not stored: it is answered from the None room.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import socketio


class RoomIndex(socketio.AsyncManager):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: namespace -> sid -> the named rooms it is in (its sid room and None left out).
        self._rooms_of: dict[str, dict[str, list[Any]]] = {}

    def basic_enter_room(self, sid: str, namespace: str, room: Any, eio_sid: Any = None) -> None:
        if room is None:
            super().basic_enter_room(sid, namespace, None, eio_sid=eio_sid)
            return
        everyone = self.rooms.get(namespace, {}).get(None, {})
        if sid not in everyone:
            raise ValueError("sid is not connected to requested namespace")
        if room == sid:
            return  # its own room: answered from the None room
        if room in everyone:
            raise ValueError("cannot enter a sid room")
        members = self.rooms[namespace].setdefault(room, {})
        if sid not in members:
            members[sid] = everyone[sid]
            self._rooms_of.setdefault(namespace, {}).setdefault(sid, []).append(room)

    def basic_leave_room(self, sid: str, namespace: str, room: Any) -> None:
        if room is None:
            super().basic_leave_room(sid, namespace, None)
            return
        rooms = self.rooms.get(namespace, {})
        members = rooms.get(room)
        if members is None or members.pop(sid, None) is None:
            return
        if not members:
            del rooms[room]
        sockets = self._rooms_of[namespace]
        joined = sockets[sid]
        joined.remove(room)
        if not joined:
            del sockets[sid]
            if not sockets:
                del self._rooms_of[namespace]

    def basic_disconnect(self, sid: str, namespace: str, **kwargs: Any) -> None:
        """python-socketio's, with the socket's rooms looked up instead of searched for."""
        for room in list(self._rooms_of.get(namespace, {}).get(sid, ())):
            self.basic_leave_room(sid, namespace, room)
        self.basic_leave_room(sid, namespace, None)
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
            return self._members(rooms, room).copy().items()
        found: dict[str, str] = {}
        for name in room:
            found.update(self._members(rooms, name))
        return found.items()

    def get_rooms(self, sid: str, namespace: str) -> list[Any]:
        """The rooms the socket is in, its own sid room first (as python-socketio answers)."""
        if sid not in self.rooms.get(namespace, {}).get(None, {}):
            return []
        return [sid, *self._rooms_of.get(namespace, {}).get(sid, ())]

    @staticmethod
    def _members(rooms: dict[Any, Any], room: Any) -> dict[str, str]:
        members = rooms.get(room)
        if members is not None:
            return members if room is not None else members._fwdm  # type: ignore[no-any-return]
        eio_sid = rooms[None].get(room) if room is not None and None in rooms else None
        return {} if eio_sid is None else {room: eio_sid}
