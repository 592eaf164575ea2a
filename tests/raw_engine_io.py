"""Engine.IO spoken by hand over a WebSocket, for tests of what the official clients never send."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp

from chatapp.sessions.cookies import COOKIE_NAME
from tests.apps import Running
from tests.client import Browser


def engine_io_url(running: Running) -> str:
    """The raw Engine.IO WebSocket endpoint, for tests that speak the protocol by hand."""
    return running.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"


def cookie_header(browser: Browser) -> dict[str, str]:
    return {"Cookie": f"{COOKIE_NAME}={browser.cookies[COOKIE_NAME]}"}


@asynccontextmanager
async def raw_socket(
    running: Running, browser: Browser
) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
    """A WebSocket speaking Engine.IO by hand, its namespace "/" joined."""
    url, headers = engine_io_url(running), cookie_header(browser)
    async with aiohttp.ClientSession() as http, http.ws_connect(url, headers=headers) as raw:
        assert (await asyncio.wait_for(raw.receive(), timeout=5)).data.startswith("0")
        await raw.send_str("40")
        assert (await asyncio.wait_for(raw.receive(), timeout=5)).data.startswith("40")
        yield raw


async def frames_until_closed(raw: aiohttp.ClientWebSocketResponse) -> list[str]:
    """Every text frame the server sends until it closes the connection."""
    frames = []
    while (message := await asyncio.wait_for(raw.receive(), timeout=5)).type == (
        aiohttp.WSMsgType.TEXT
    ):
        frames.append(message.data)
    return frames
