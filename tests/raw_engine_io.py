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


class RawConnection:
    """A TCP connection speaking the WebSocket handshake and frames by hand: for what no
    client library lets a test send (unmasked frames, bad UTF-8, a bare close frame)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(
        cls, running: Running, browser: Browser, **headers: str
    ) -> tuple[RawConnection, str]:
        """The connection and the head of the server's answer to its upgrade request."""
        host, port = running.url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        lines = {
            "Host": f"{host}:{port}",
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
            "Sec-WebSocket-Version": "13",
            **cookie_header(browser),
            **{name.replace("_", "-"): value for name, value in headers.items()},
        }
        head = "".join(f"{name}: {value}\r\n" for name, value in lines.items() if value)
        writer.write(f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n{head}\r\n".encode())
        answer = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5)
        return cls(reader, writer), answer.decode()

    def send(self, payload: bytes, opcode: int = 0x1, masked: bool = True) -> None:
        mask = b"\x01\x02\x03\x04" if masked else b""
        body = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload)) if masked else payload
        self.writer.write(
            bytes([0x80 | opcode, (0x80 if masked else 0) | len(payload)]) + mask + body
        )

    async def frame(self) -> tuple[int, bytes]:
        """The server's next frame, (opcode, payload); (-1, b"") once the connection ends."""
        try:
            first, second = await asyncio.wait_for(self.reader.readexactly(2), timeout=5)
            length = second & 0x7F
            if length >= 126:
                extended = await self.reader.readexactly(2 if length == 126 else 8)
                length = int.from_bytes(extended, "big")
            return first & 0x0F, await self.reader.readexactly(length)
        except asyncio.IncompleteReadError:
            return -1, b""

    async def frames_until_closed(self) -> list[tuple[int, bytes]]:
        frames = []
        while (got := await self.frame())[0] != -1:
            frames.append(got)
        return frames

    def close(self) -> None:
        self.writer.close()
