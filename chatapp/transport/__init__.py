"""chatapp's own delivery path: Engine.IO 4 on a WebSocket that chatapp owns from its handshake.

Why: a post to 1,000 online friends cost 192 µs of server CPU per recipient
through python-engineio's WebSocket transport: per socket a writer task, two
queues, a ping task and a task per received frame, and a Tornado task per
`write_message`; an idle socket held 43 kB, most of it Tornado's handler,
request and frame-reading coroutines (docs/PERFORMANCE.md).

Here a socket that opens on a WebSocket (`transport=websocket` with no `sid`, what
socket.io-client does first) is answered by chatapp (`handler.py`: the checks
Tornado's WebSocketHandler makes, then the 101) and its connection leaves Tornado:
the socket (`socket.py`, `WebSocketSocket`) is the protocol of the connection, which
is read and written on the loop itself (`connection.py`: no asyncio transport, 1.1
kB an idle socket, and no reader of the loop's own: one epoll watches every
connection, 425 bytes a socket). Bytes arrive in a callback and are taken apart by
`frames.FrameReader` (no task waits for them); a packet is one frame, and a room's
packet is encoded once and the same bytes written to every recipient
(`chatapp.realtime.delivery.DirectEmit`); what a socket is written in one pass of
the loop leaves in one `send()` (`outbox.py`); heartbeats are kept in buckets a
fraction of a second wide, one loop timer for all (`heartbeats.py`); a reader that
falls `MAX_PENDING_BYTES` behind is cut off. A socket's events are handled in the
task that hands its messages over, one after the other
(`chatapp.realtime.server.ChatServer._handle_event`). The socket keeps of its
request only a `Handshake` (address, session cookie). permessage-deflate is
declined, as before (docs/PERFORMANCE.md says why).

Long-polling, a polling connection that upgrades to a WebSocket, and a
connection Tornado serves over TLS keep python-engineio's path unchanged.

The seam is one object: python-engineio's `AsyncServer.sockets[sid]`. Its
server (and python-socketio above it) reaches a socket only through the few
members `WebSocketSocket` has (`send`, `close`, `check_ping_timeout`,
`closed`, `closing`, `connected`, `upgraded`, `upgrading`, `session`), and
hears of it through its public event hooks (`connect`, `message`,
`disconnect`) via `_trigger_event`; python-socketio's `environ` for it holds
the `Handshake` (`handshake_of` reads either path's). Written for, and pinned
to (pyproject.toml), python-engineio 4.15 and python-socketio 5.18 on Tornado
6.6; every member it reaches below their public API is in chatapp/upstream.py.
tests/test_transport.py holds it to the protocol with the official clients,
and tests/test_frames.py to RFC 6455 byte by byte.
"""

from chatapp.transport.handler import engineio_handler
from chatapp.transport.handshake import Handshake, handshake_of
from chatapp.transport.socket import WebSocketSocket

__all__ = ["Handshake", "WebSocketSocket", "engineio_handler", "handshake_of"]
