"""Every place chatapp reaches below the public API of python-socketio, python-engineio or
Tornado: what, where, and why, with the versions it was written for.

Each of these holds only for the versions below: pyproject.toml pins them to
those minor versions, tests/test_upstream.py fails if an installed version or
a member named here no longer matches (and if a class of chatapp's overrides
an upstream method not listed), and the app logs a warning at start-up when
run with other versions. Upgrading one: read its changes for each member
named here, run the tests, then move the pin and `WRITTEN_FOR` together.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from dataclasses import dataclass

#: The minor versions the code below was written and tested for.
WRITTEN_FOR = {"python-socketio": "5.18", "python-engineio": "4.15", "tornado": "6.6"}


@dataclass(frozen=True)
class Reach:
    #: The upstream member, as module:qualified.name.
    upstream: str
    #: Where chatapp overrides, replaces or calls it.
    where: str
    why: str


REACHES = [
    # -- python-socketio's server: dispatch rules it lacks (chatapp.realtime.server) -----------
    Reach(
        "socketio.async_server:AsyncServer._handle_event",
        "chatapp.realtime.server:ChatServer",
        "an own-path socket's events run in the task that hands its messages over, in order; "
        "an event without a name gets an unknown_event ack instead of an IndexError",
    ),
    Reach(
        "socketio.async_server:AsyncServer._handle_event_internal",
        "chatapp.realtime.server:ChatServer",
        "reserved event names refused; after_ack work runs after the ack is queued",
    ),
    Reach(
        "socketio.async_server:AsyncServer._handle_connect",
        "chatapp.realtime.server:ChatServer",
        "on_connected once a connect has completed; a refused connect closes its connection",
    ),
    Reach(
        "socketio.async_server:AsyncServer._handle_eio_message",
        "chatapp.realtime.server:ChatServer",
        "a frame python-socketio cannot decode ends its connection with one log line",
    ),
    Reach(
        "socketio.async_server:AsyncServer._handle_eio_connect",
        "chatapp.realtime.server:ChatServer",
        "open connections counted per address; polling sockets get poll_with_timeout",
    ),
    Reach(
        "socketio.async_server:AsyncServer._handle_eio_disconnect",
        "chatapp.realtime.server:ChatServer",
        "open connections counted per address",
    ),
    Reach(
        "socketio.async_server:AsyncServer._send_packet",
        "chatapp.realtime.server:ChatServer",
        "the unknown_event ack is sent as python-socketio sends its own",
    ),
    Reach(
        "engineio.async_socket:AsyncSocket.poll",
        "chatapp.realtime.server:poll_with_timeout",
        "before Python 3.12, a polling socket's wait without a task per wait",
    ),
    Reach(
        "engineio.async_server:AsyncServer._get_socket",
        "chatapp.realtime.server:ChatServer",
        "the Engine.IO socket of a connect, to give a polling one poll_with_timeout",
    ),
    Reach(
        "socketio.packet:Packet.data_is_binary",
        "chatapp.realtime.packets:ChatPacket",
        "the server's packet class (`serializer=`): binary found without a list and a reduce at "
        "every level; Packet.__init__ asks it to choose a packet's type",
    ),
    # -- python-socketio's manager: rooms and emits (chatapp.realtime.rooms, .delivery) ----------
    Reach(
        "socketio.base_manager:BaseManager.basic_enter_room",
        "chatapp.realtime.rooms:RoomIndex",
        "named rooms are dicts, a socket's own room is not stored, its rooms are listed",
    ),
    Reach(
        "socketio.base_manager:BaseManager.basic_leave_room",
        "chatapp.realtime.rooms:RoomIndex",
        "the same rooms, pruned when empty",
    ),
    Reach(
        "socketio.base_manager:BaseManager.basic_disconnect",
        "chatapp.realtime.rooms:RoomIndex",
        "leaving costs the socket's own rooms, not a scan of all of them",
    ),
    Reach(
        "socketio.base_manager:BaseManager.get_participants",
        "chatapp.realtime.rooms:RoomIndex",
        "a push to 1,000 rooms resolved with a dict update each, the sid room answered",
    ),
    Reach(
        "socketio.base_manager:BaseManager.get_rooms",
        "chatapp.realtime.rooms:RoomIndex",
        "answered from the socket's list of rooms",
    ),
    Reach(
        "socketio.base_manager:BaseManager.rooms",
        "chatapp.realtime.rooms:RoomIndex",
        "the shape rooms[namespace][room][sid] = eio_sid, the None room a bidict (its _fwdm)",
    ),
    Reach(
        "socketio.async_manager:AsyncManager.emit",
        "chatapp.realtime.delivery:DirectEmit",
        "a packet encoded once and written to each socket without a task per recipient",
    ),
    Reach(
        "socketio.async_server:AsyncServer._send_eio_packet",
        "chatapp.realtime.delivery:DirectEmit",
        "a polling socket in a DirectEmit gets its packet as python-socketio would send it",
    ),
    Reach(
        "socketio.async_redis_manager:AsyncRedisManager._redis_listen_with_retries",
        "chatapp.realtime.delivery:RedisDirectEmit",
        "the subscriber retries every 0.5-2 s instead of backing off to 60 s",
    ),
    Reach(
        "socketio.async_redis_manager:AsyncRedisManager._redis_connect",
        "chatapp.realtime.delivery:RedisDirectEmit",
        "called by the retrying subscriber, as upstream's does",
    ),
    # -- python-socketio's Admin UI support (chatapp.realtime.admin) ----------------------------
    Reach(
        "socketio.async_admin:InstrumentedAsyncServer.admin_connect",
        "chatapp.realtime.admin:AdminUI",
        "called once chatapp's own connect handler has admitted an admin's login",
    ),
    Reach(
        "engineio.async_socket:AsyncSocket.handle_post_request",
        "chatapp.realtime.admin:AdminUI",
        "put back after instrument() replaces it for every server of the process",
    ),
    Reach(
        "engineio.async_socket:AsyncSocket._websocket_handler",
        "chatapp.realtime.admin:AdminUI",
        "put back after instrument() replaces it for every server of the process",
    ),
    Reach(
        "socketio.base_server:BaseServer.handlers",
        "chatapp.realtime.admin:AdminUI",
        "an empty entry for chatapp's class-based namespace, so the reports list it",
    ),
    # -- python-engineio's server and Tornado: the own WebSocket path (chatapp.transport) -------
    Reach(
        "engineio.async_server:AsyncServer.sockets",
        "chatapp.transport.socket:WebSocketSocket",
        "the seam: chatapp's socket stands in sockets[sid] for python-engineio's",
    ),
    Reach(
        "engineio.async_server:AsyncServer._trigger_event",
        "chatapp.transport.socket:WebSocketSocket",
        "connect, message and disconnect reach python-socketio as from python-engineio",
    ),
    Reach(
        "engineio.async_drivers.tornado:get_tornado_handler",
        "chatapp.transport.handler:engineio_handler",
        "subclassed: a WebSocket that opens a socket is answered by chatapp",
    ),
    Reach(
        "tornado.iostream:BaseIOStream._read_buffer_size",
        "chatapp.transport.handler:engineio_handler",
        "bytes a client sent past its upgrade request before the answer, taken over",
    ),
]


def installed_minor(package: str) -> str:
    return ".".join(importlib.metadata.version(package).split(".")[:2])


def mismatches() -> list[str]:
    """What no longer holds: an installed version other than WRITTEN_FOR, or an upstream
    member named in REACHES that is gone. Empty when all is as written."""
    found = [
        f"{package} {installed_minor(package)} installed, written for {wanted}"
        for package, wanted in WRITTEN_FOR.items()
        if installed_minor(package) != wanted
    ]
    for reach in REACHES:
        if not _exists(reach.upstream):
            found.append(f"{reach.upstream} (used by {reach.where}) is gone")
    return found


def _exists(path: str) -> bool:
    module_name, _, qualified = path.partition(":")
    try:
        owner: object = importlib.import_module(module_name)
    except ImportError:
        return False
    names = qualified.split(".")
    for name in names[:-1]:
        owner = getattr(owner, name, None)
        if owner is None:
            return False
    last = names[-1]
    # An instance attribute (set in __init__) is named in the class's __init__ code.
    if hasattr(owner, last):
        return True
    init = getattr(owner, "__init__", None)
    code = getattr(init, "__code__", None)
    return code is not None and last in code.co_names
