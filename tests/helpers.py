"""What many test modules share: bounded waits and socket calls."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import socketio
from yarl import URL

Ack = dict[str, Any]


async def eventually(check: Callable[[], bool | Awaitable[bool]], limit: float = 3.0) -> None:
    """Wait until `check()` is true (it may be async), at most `limit` seconds."""
    deadline = time.monotonic() + limit
    while True:
        result = check()
        if await result if isinstance(result, Awaitable) else result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {limit}s")
        await asyncio.sleep(0.02)


async def call(client: socketio.AsyncClient, event: str, data: object = None) -> Ack:
    """Emit an event and return its ack (at most 5 s)."""
    ack = await client.call(event, data, timeout=5)
    assert isinstance(ack, dict), ack
    return ack


class RecordingClient(socketio.AsyncClient):  # type: ignore[misc]
    """A Socket.IO client that records what the server sends for the named events.

    Its cookies are sent with every request, as a browser sends them: the
    server binds a polling connection to the session cookie of its handshake.
    """

    def __init__(
        self,
        url: str,
        *,
        cookies: dict[str, str] | None = None,
        events: tuple[str, ...] = (),
        **options: Any,
    ) -> None:
        def http_session() -> aiohttp.ClientSession:
            jar = aiohttp.CookieJar(unsafe=True)  # unsafe: cookies for an IP address too
            jar.update_cookies(cookies or {}, URL(url))
            return aiohttp.ClientSession(cookie_jar=jar)

        super().__init__(**{"reconnection": False, **options}, http_session=http_session)
        self.received: dict[str, list[Any]] = {name: [] for name in events}
        for name in events:
            self.on(name, self.received[name].append)


async def barrier(client: socketio.AsyncClient) -> None:
    """Return once everything the server sent this client before now has arrived.

    The ack of a round trip comes after every event the server queued earlier
    on the same connection: a "nothing arrived" check needs no sleep after it.
    """
    await call(client, "session:get")


async def disconnected(client: socketio.AsyncClient, limit: float = 3.0) -> None:
    """Wait until the server has closed this client's connection."""
    await eventually(lambda: not client.connected, limit)


async def arrived(client: RecordingClient, event: str, expected: list[Any]) -> None:
    """Wait until exactly `expected` arrived for `event`."""
    await eventually(lambda: client.received[event] == expected)


async def notified(client: RecordingClient, kind: str) -> None:
    """Wait until a notification of this kind arrived."""
    await eventually(lambda: any(n["kind"] == kind for n in client.received["notification"]))
