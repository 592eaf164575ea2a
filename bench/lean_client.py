"""A lean Socket.IO client for driving many sockets from one benchmark process.

python-socketio's AsyncClient costs tens of kB and several tasks per
connection in the load generator; this one is one aiohttp WebSocket and one
reader task, so the server, not the client, is what gets measured. With
`deflate=True` it offers permessage-deflate in its handshake, as every
browser does, so the server's answer to that offer is measured too.

Engine.IO 4 over WebSocket: the server opens with `0{...}`, the client joins
the namespace with `40` (and an auth object), the server pings with `2`, the
client answers `3`; events are `42[...]`, an event asking for an ack
`42<id>[...]`, and its ack `43<id>[...]`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from typing import Any

import aiohttp

EventHandler = Callable[[str, Any], None]


class LeanSocket:
    def __init__(
        self, ws: aiohttp.ClientWebSocketResponse, compressed: bool, on_event: EventHandler | None
    ) -> None:
        self.ws = ws
        self.compressed = compressed  # did the server accept permessage-deflate?
        self.on_event = on_event
        self._ack_ids = itertools.count()
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self.task = asyncio.create_task(self._read())

    async def call(self, event: str, data: Any = None, timeout: float = 30) -> Any:
        """Emit an event and wait for its ack's first argument."""
        ack_id = next(self._ack_ids)
        answer = asyncio.get_running_loop().create_future()
        self._waiting[ack_id] = answer
        arguments = [event] if data is None else [event, data]
        await self.ws.send_str(f"42{ack_id}{json.dumps(arguments)}")
        try:
            return await asyncio.wait_for(answer, timeout)
        finally:
            self._waiting.pop(ack_id, None)

    async def _read(self) -> None:
        async for message in self.ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            data: str = message.data
            if data == "2":
                await self.ws.send_str("3")
            elif data.startswith("43"):
                bracket = data.index("[")
                answer = self._waiting.get(int(data[2:bracket]))
                if answer is not None and not answer.done():
                    answer.set_result((json.loads(data[bracket:]) or [None])[0])
            elif data.startswith("42") and self.on_event is not None:
                event, *arguments = json.loads(data[2:])
                self.on_event(event, arguments[0] if arguments else None)

    async def close(self) -> None:
        self.task.cancel()
        await self.ws.close()


async def connect(
    http: aiohttp.ClientSession,
    url: str,
    *,
    deflate: bool = False,
    headers: dict[str, str] | None = None,
    auth: dict[str, Any] | None = None,
    on_event: EventHandler | None = None,
) -> LeanSocket:
    """A connected Socket.IO socket on namespace `/`, or RuntimeError if refused."""
    ws_url = url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
    ws = await http.ws_connect(
        ws_url, headers=headers or {}, compress=15 if deflate else 0, autoping=True, timeout=10
    )
    opening = await ws.receive_str(timeout=30)
    if not opening.startswith("0"):
        raise RuntimeError(f"no Engine.IO open packet: {opening[:80]}")
    await ws.send_str("40" + (json.dumps(auth) if auth else ""))
    joined = await ws.receive_str(timeout=30)
    while joined == "2" or joined.startswith("42"):  # a ping, an event queued before the answer
        if joined == "2":
            await ws.send_str("3")
        joined = await ws.receive_str(timeout=30)
    if not joined.startswith("40"):
        await ws.close()
        raise RuntimeError(f"connect refused: {joined[:120]}")
    return LeanSocket(ws, compressed=bool(ws.compress), on_event=on_event)
