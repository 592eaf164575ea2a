"""The reference for bench/realtime.py: a bare python-socketio server on Tornado.

No session, no store, no checks: connect joins the room the client names,
`prefs:set` acks its data back. Same transport, manager and message queue as
chatapp, so the ratio is chatapp's own cost. `GET /feed` is a bare Tornado
handler answering a fixed page of 20 posts, the reference for feed reads.

    python bench/bare_socketio_server.py PORT REDIS_URL
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import socketio
import tornado.web

FAKE_POST = {
    "id": "123",
    "author": {"id": "7", "username": "alice", "display_name": "Alice"},
    "text": "x" * 80,
    "created_at": "2026-11-22T07:00:00.000Z",
    "comment_count": 2,
}


async def main(port: int, redis_url: str) -> None:
    sio = socketio.AsyncServer(
        async_mode="tornado", client_manager=socketio.AsyncRedisManager(redis_url)
    )

    @sio.event
    async def connect(sid: str, environ: dict[str, Any], auth: dict[str, Any]) -> None:
        await sio.enter_room(sid, f"user:{auth['user']}")

    @sio.on("prefs:set")
    async def prefs_set(sid: str, data: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "prefs": data}

    page = json.dumps({"posts": [FAKE_POST] * 20, "next": "1"})

    class FeedHandler(tornado.web.RequestHandler):
        def get(self) -> None:
            self.set_header("Content-Type", "application/json")
            self.write(page)

    app = tornado.web.Application(
        [(r"/socket.io/", socketio.get_tornado_handler(sio)), (r"/feed", FeedHandler)]
    )
    app.listen(port, "127.0.0.1")
    print(f"listening on http://127.0.0.1:{port}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
