"""The benchmarks' own Socket.IO client (bench/lean_client.py) is the measuring instrument:
it must speak the protocol as the official clients do, or the figures mean nothing."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import tornado.web
import tornado.websocket
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from bench.lean_client import connect
from tests.apps import StartApp
from tests.helpers import eventually


async def test_it_joins_gets_acks_and_receives_long_pushes(start_app: StartApp) -> None:
    running = await start_app()
    alice = await running.login("alice")
    cookie = {"Cookie": "; ".join(f"{k}={v}" for k, v in alice.cookies.items())}
    received: list[tuple[str, Any]] = []
    socket = await connect(running.url, headers=cookie, on_event=lambda *e: received.append(e))
    try:
        answer = await socket.call("session:get", timeout=5)
        assert answer["ok"] is True and answer["user"]["username"] == "alice"
        long_text = "x" * 70_000  # a frame with a 64-bit length
        alice_id = await running.user_id("alice")
        await running.app.sockets.push_to_user(alice_id, "notification", {"text": long_text})
        await eventually(lambda: ("notification", {"text": long_text}) in received)
    finally:
        await socket.close()


class CompressingEngineIO(tornado.websocket.WebSocketHandler):
    """Just enough of Engine.IO to open a socket, ping it and send it events, over a
    WebSocket that takes deflate; it keeps what the client sends after joining."""

    def initialize(self, heard: list[str | bytes]) -> None:
        self.heard = heard

    def get_compression_options(self) -> dict[str, Any]:
        return {}

    def open(self) -> None:
        self.write_message('0{"sid":"s","pingInterval":25000,"pingTimeout":20000}')

    def on_message(self, message: str | bytes) -> None:
        if message != "40":
            self.heard.append(message)
            return
        self.write_message('40{"sid":"n"}')
        self.write_message("2")
        for n in range(3):  # several compressed messages share the inflater's window
            self.write_message("42" + json.dumps(["said", {"n": n, "text": "hello " * 50}]))


async def test_it_offers_deflate_reads_compressed_messages_and_answers_pings() -> None:
    heard: list[str | bytes] = []
    sockets = bind_sockets(0, "127.0.0.1")
    routes = [(r"/socket.io/", CompressingEngineIO, {"heard": heard})]
    server = HTTPServer(tornado.web.Application(routes))
    server.add_sockets(sockets)
    url = f"http://127.0.0.1:{sockets[0].getsockname()[1]}"
    received: list[tuple[str, Any]] = []
    try:
        socket = await connect(url, deflate=True, on_event=lambda *e: received.append(e))
        assert socket.compressed
        await eventually(lambda: len(received) == 3)
        assert received == [("said", {"n": n, "text": "hello " * 50}) for n in range(3)]
        await eventually(lambda: heard == ["3"])  # the pong, which may reach the server last
        await socket.close()
    finally:
        server.stop()
        await asyncio.sleep(0)
