"""The Flask reference for bench/compare.py: Flask-Session on Redis shared with
Flask-SocketIO (gevent), as Flask-SocketIO's docs describe with `manage_session=False`.

The part of chatapp's API the benchmark drives; no password check, no XSRF
token, no limits. Each socket event reads the session from Redis and a
`prefs:set` writes it back, so the next HTTP request sees it (chatapp's promise).

    python bench/reference/flask_app.py PORT REDIS_URL
"""

from gevent import monkey

monkey.patch_all()

import secrets  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from typing import Any  # noqa: E402

import gevent  # noqa: E402
import redis  # noqa: E402
from flask import Flask, Response, jsonify, request, session  # noqa: E402
from flask_session import Session  # noqa: E402
from flask_socketio import SocketIO, join_room  # noqa: E402

port, redis_url = int(sys.argv[1]), sys.argv[2]
app = Flask(__name__)
app.config.update(
    SECRET_KEY=secrets.token_hex(32),
    SESSION_TYPE="redis",
    # redis-py's default pool raises past its size; a deployment waits for a connection.
    SESSION_REDIS=redis.Redis(
        connection_pool=redis.BlockingConnectionPool.from_url(redis_url, max_connections=64)
    ),
    SESSION_COOKIE_NAME="sid",
    SESSION_COOKIE_SAMESITE="Lax",
)
Session(app)
socketio = SocketIO(app, async_mode="gevent", manage_session=False, logger=False)
friends: dict[str, set[str]] = {}
lag: list[float] = []


@app.post("/api/login")
def login() -> Response:
    username = request.get_json()["username"]
    session.clear()
    session["user"] = {"id": username, "username": username, "display_name": username}
    session["prefs"] = {}
    return jsonify(user=session["user"])


@app.get("/api/session")
def session_state() -> Response:
    user = session.get("user")
    return jsonify(authenticated=bool(user), user=user, prefs=session.get("prefs", {}))


@app.put("/api/prefs")
def prefs() -> Response:
    session["prefs"] = {"theme": request.get_json()["theme"]}
    return jsonify(prefs=session["prefs"])


@app.post("/api/friends/<username>")
def befriend(username: str) -> Response:
    me = session["user"]["username"]
    friends.setdefault(me, set()).add(username)
    friends.setdefault(username, set()).add(me)
    return jsonify(friendship="friends")


@app.post("/api/posts")
def post() -> tuple[Response, int]:
    author = session["user"]
    post = {
        "id": secrets.token_hex(8),
        "author": author,
        "text": request.get_json()["text"],
        "created_at": datetime.now(UTC).isoformat(),
        "comment_count": 0,
    }
    rooms = [f"user:{f}" for f in friends.get(author["username"], ())]
    socketio.emit("feed:post", post, to=[*rooms, f"user:{author['username']}"])
    notification = {"id": post["id"], "kind": "post", "actor": author, "post_id": post["id"]}
    socketio.emit("notification", notification, to=rooms)
    return jsonify(post=post), 201


@app.get("/bench/loop-lag")
def loop_lag() -> Response:
    samples = lag[:]
    del lag[:]
    return jsonify(samples_ms=samples)


@socketio.on("connect")
def connect(auth: Any = None) -> bool:
    user = session.get("user")
    if not user:
        return False
    join_room(f"user:{user['username']}")
    return True


@socketio.on("session:get")
def session_get(*_: Any) -> dict[str, Any]:
    return {"ok": True, "user": session.get("user"), "prefs": session.get("prefs", {})}


@socketio.on("prefs:set")
def prefs_set(data: dict[str, Any]) -> dict[str, Any]:
    session["prefs"] = {"theme": data["theme"]}
    app.session_interface.save_session(app, session, Response())
    return {"ok": True, "prefs": session["prefs"]}


def heartbeat() -> None:
    while True:
        slept = time.perf_counter()
        gevent.sleep(0.01)
        lag.append(max(0.0, time.perf_counter() - slept - 0.01) * 1000)


if __name__ == "__main__":
    gevent.spawn(heartbeat)
    print(f"listening on http://127.0.0.1:{port}", flush=True)
    socketio.run(app, host="127.0.0.1", port=port, log_output=False)
