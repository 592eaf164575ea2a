"""The origin check, as a matrix over both transports, spoken raw so that every header
is exactly what an attacker would send: only the page's own origin and the configured
ones get a handshake; the rest get 403 before any Engine.IO session exists."""

from __future__ import annotations

import asyncio
import base64
import os
from urllib.parse import urlsplit

import pytest

from tests.apps import Running, ServeApp, app_settings

ALLOWED = "https://app.example"


def variants(own: str) -> dict[str, tuple[str | None, bool | int]]:
    """name -> (the Origin header's raw value, allowed? or the refusal's status)."""
    host, port = urlsplit(own).hostname, urlsplit(own).port
    return {
        "own": (own, True),
        "own, trailing slash, upper case": (own.upper() + "/", True),
        "configured": (ALLOWED, True),
        "none (not a browser: the cookie decides)": (None, True),
        "foreign": ("https://evil.example", False),
        "own host, other scheme": (f"https://{host}:{port}", False),
        "own host, other port": (f"http://{host}:{(port or 80) + 1}", False),
        "configured as a suffix": ("https://evil.app.example", False),
        "configured as a prefix": ("https://app.example.evil.com", False),
        "configured plus a character": ("https://app.examplex", False),
        "null (sandboxed frame, file:)": ("null", False),
        # Tornado refuses a folded header line outright: no handler runs.
        "folded onto a second line": ("https://evil.example\r\n " + own, 400),
    }


async def handshake_status(running: Running, transport: str, origin: str | None) -> int:
    parts = urlsplit(running.url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    lines = [
        f"GET /socket.io/?EIO=4&transport={transport} HTTP/1.1",
        f"Host: {parts.netloc}",
    ]
    if origin is not None:
        lines.append(f"Origin: {origin}")
    if transport == "websocket":
        key = base64.b64encode(os.urandom(16)).decode()
        lines += [
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
        ]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), timeout=5)
    writer.close()
    return int(status_line.split()[1])


@pytest.mark.parametrize("transport", ["polling", "websocket"])
async def test_only_the_own_and_configured_origins_get_a_handshake(
    serve_app: ServeApp, transport: str
) -> None:
    running = await serve_app(app_settings(socketio={"allowed_origins": [ALLOWED]}))
    expected_ok = 101 if transport == "websocket" else 200
    outcomes = {
        name: await handshake_status(running, transport, origin)
        for name, (origin, _) in variants(running.url).items()
    }
    wanted = {
        name: expected_ok if allowed is True else 403 if allowed is False else allowed
        for name, (_, allowed) in variants(running.url).items()
    }
    assert outcomes == wanted
