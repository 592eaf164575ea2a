"""A lean Socket.IO client for holding many idle connections from one process.

python-socketio's AsyncClient costs tens of kB and a few tasks per connection in
the load generator; this one is one aiohttp WebSocket and one task. With
`deflate=True` it offers permessage-deflate in its handshake, as every browser
does, so the server's answer to that offer is what gets measured.

Engine.IO 4 over WebSocket: the server opens with `0{...}`, the client joins the
namespace with `40` (and an auth object), the server pings with `2`, the client
answers `3`.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp


class LeanSocket:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse, compressed: bool) -> None:
        self.ws = ws
        self.compressed = compressed  # did the server accept permessage-deflate?
        self.task = asyncio.create_task(self._answer_pings())

    async def _answer_pings(self) -> None:
        async for message in self.ws:
            if message.type == aiohttp.WSMsgType.TEXT and message.data == "2":
                await self.ws.send_str("3")

    async def close(self) -> None:
        self.task.cancel()
        await self.ws.close()


async def connect(
    http: aiohttp.ClientSession,
    url: str,
    *,
    deflate: bool,
    headers: dict[str, str] | None = None,
    auth: dict[str, Any] | None = None,
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
    return LeanSocket(ws, compressed=bool(ws.compress))
