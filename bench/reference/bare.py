"""The limit for bench/compare.py: bare Tornado handlers and python-socketio on one IOLoop.

The part of chatapp's API the benchmark drives, with sessions in a dict in
this process, named by a random cookie: no signature, no store, no XSRF
token, no user lookup, no limits. Whatever chatapp adds costs the difference.

    python bench/reference/bare.py PORT
"""

from __future__ import annotations

import asyncio
import json
import secrets
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import socketio
import tornado.web

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from chatapp.loop_lag import LoopLag

Session = dict[str, Any]
sessions: dict[str, Session] = {}
friends: dict[str, set[str]] = {}
lag = LoopLag()


def session_of(cookie_header: str | None) -> Session | None:
    for part in (cookie_header or "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == "sid":
            return sessions.get(value)
    return None


class Handler(tornado.web.RequestHandler):
    def prepare(self) -> None:
        self.session = session_of(self.request.headers.get("Cookie"))

    def send(self, payload: dict[str, Any], status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.write(json.dumps(payload))

    def me(self) -> dict[str, Any]:
        if self.session is None:
            raise tornado.web.HTTPError(401)
        user: dict[str, Any] = self.session["user"]
        return user


class Login(Handler):
    def post(self) -> None:
        username = json.loads(self.request.body)["username"]
        sid = secrets.token_urlsafe(32)
        user = {"id": username, "username": username, "display_name": username}
        sessions[sid] = {"user": user, "prefs": {}}
        self.set_cookie("sid", sid, httponly=True, samesite="Lax")
        self.send({"user": user})


class SessionState(Handler):
    def get(self) -> None:
        session = self.session or {}
        user = session.get("user")
        self.send({"authenticated": bool(user), "user": user, "prefs": session.get("prefs", {})})


class Prefs(Handler):
    def put(self) -> None:
        prefs = {"theme": json.loads(self.request.body)["theme"]}
        if self.session is not None:
            self.session["prefs"] = prefs
        self.send({"prefs": prefs})


class Befriend(Handler):
    def post(self, username: str) -> None:
        me = self.me()["username"]
        friends.setdefault(me, set()).add(username)
        friends.setdefault(username, set()).add(me)
        self.send({"friendship": "friends"})


class Posts(Handler):
    async def post(self) -> None:
        author = self.me()
        post = {
            "id": secrets.token_hex(8),
            "author": author,
            "text": json.loads(self.request.body)["text"],
            "created_at": datetime.now(UTC).isoformat(),
            "comment_count": 0,
        }
        rooms = [f"user:{f}" for f in friends.get(author["username"], ())]
        await sio.emit("feed:post", post, room=[*rooms, f"user:{author['username']}"])
        notification = {"id": post["id"], "kind": "post", "actor": author, "post_id": post["id"]}
        await sio.emit("notification", notification, room=rooms)
        self.send({"post": post}, 201)


class Feed(Handler):
    """A page of 20 posts, the shape of chatapp's GET /api/feed, from memory: what a bare
    Tornado handler serves for bench/social.py's feed reads."""

    PAGE: ClassVar[list[dict[str, Any]]] = [
        {
            "id": str(n),
            "author": {"id": "1", "username": "bare", "display_name": "Bare"},
            "text": f"post {n} " + "x" * 80,
            "created_at": "2026-01-01T00:00:00.000Z",
            "comment_count": 0,
        }
        for n in range(20, 0, -1)
    ]

    def get(self) -> None:
        self.send({"posts": self.PAGE, "next": "1"})


class Lag(Handler):
    def get(self) -> None:
        self.send({"samples_ms": lag.take()})


sio = socketio.AsyncServer(async_mode="tornado")


@sio.event
async def connect(sid: str, environ: dict[str, Any], auth: Any) -> bool:
    session = session_of(environ.get("HTTP_COOKIE"))
    if session is None:
        return False
    await sio.save_session(sid, {"session": session})
    await sio.enter_room(sid, f"user:{session['user']['username']}")
    return True


@sio.on("session:get")
async def session_get(sid: str, *_: Any) -> dict[str, Any]:
    session = (await sio.get_session(sid))["session"]
    return {"ok": True, "user": session["user"], "prefs": session["prefs"]}


@sio.on("prefs:set")
async def prefs_set(sid: str, data: dict[str, Any]) -> dict[str, Any]:
    session = (await sio.get_session(sid))["session"]
    session["prefs"] = {"theme": data["theme"]}
    return {"ok": True, "prefs": session["prefs"]}


async def main(port: int) -> None:
    lag.start()
    app = tornado.web.Application(
        [
            (r"/socket.io/", socketio.get_tornado_handler(sio)),
            (r"/api/login", Login),
            (r"/api/session", SessionState),
            (r"/api/prefs", Prefs),
            (r"/api/friends/([^/]+)", Befriend),
            (r"/api/posts", Posts),
            (r"/api/feed", Feed),
            (r"/bench/loop-lag", Lag),
        ],
        log_function=lambda handler: None,
    )
    app.listen(port, "127.0.0.1")
    print(f"listening on http://127.0.0.1:{port}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
