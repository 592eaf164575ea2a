"""chatapp's own delivery path: Engine.IO 4 on a WebSocket, written straight to Tornado's stream.

Why: a post to 1,000 online friends cost 192 µs of server CPU per recipient
through python-engineio's WebSocket transport: per socket a writer task, two
queues, a ping task and a task per received frame, and a Tornado task per
`write_message` (docs/PERFORMANCE.md). Here a socket that opens on a
WebSocket (`transport=websocket` with no `sid`, what socket.io-client does
first) is a `WebSocketSocket`: no task, queue or future of its own; a packet
is one WebSocket frame written to the connection's `IOStream`; a packet for a
room is encoded once and the same frame bytes written to every recipient
(`chatapp.realtime.delivery.DirectEmit`); heartbeats are one loop timer per
socket; a reader that falls `MAX_PENDING_BYTES` behind is cut off.

Long-polling, and a polling connection that upgrades to a WebSocket, keep
python-engineio's own path unchanged.

The seam is one object: python-engineio's `AsyncServer.sockets[sid]`. Its
server (and python-socketio above it) reaches a socket only through the few
members `WebSocketSocket` has (`send`, `close`, `check_ping_timeout`,
`closed`, `closing`, `connected`, `upgraded`, `upgrading`, `session`), and
announces a socket through its public event hooks (`connect`, `message`,
`disconnect`) via `_trigger_event`. Written for, and pinned to
(pyproject.toml), python-engineio 4.15 and python-socketio 5.18 on Tornado
6.6; tests/test_transport.py holds it to the protocol with the official
clients.
"""

from chatapp.transport.handler import engineio_handler
from chatapp.transport.socket import WebSocketSocket

__all__ = ["WebSocketSocket", "engineio_handler"]
