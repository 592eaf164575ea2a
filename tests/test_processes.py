"""Real run.py processes sharing a Redis message queue and a session store act as one.

The test logs in by writing a logged-in session to the shared store and signing
its cookie with the processes' secret, as the login handler would.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from tornado.httpclient import AsyncHTTPClient
from tornado.web import create_signed_value

from chatapp.backends import build_session_store
from chatapp.sessions.cookies import COOKIE_NAME
from chatapp.sessions.session import new_session_id, store_key
from chatapp.settings import load_settings
from stores.base import SessionStore
from tests.apps import ServeApp, app_settings, leave
from tests.helpers import RecordingClient, disconnected, eventually
from tests.processes import AppProcess

SECRET = "s" * 48  # what AppProcess gives every process


def settings_text(store: str, redis_url: str, mongodb_url: str, beat: str = "5s") -> str:
    return (
        f"[session]\nstore = {store}\n[redis]\nurl = {redis_url}\n[mongodb]\nurl = {mongodb_url}\n"
        f"[socketio]\nmessage_queue = {redis_url}\nping_interval = 1s\nping_timeout = 1s\n"
        f"presence_heartbeat = {beat}\n"
    )


@pytest.fixture
def processes() -> Iterator[list[AppProcess]]:
    started: list[AppProcess] = []
    yield started
    for process in started:
        process.stop()


@pytest.fixture
async def shared_store() -> AsyncIterator[list[SessionStore]]:
    made: list[SessionStore] = []
    yield made
    for store in made:
        await store.close()


async def log_in(store: SessionStore, user_id: str) -> str:
    """A signed cookie value for a new logged-in session of `user_id`."""
    session_id = new_session_id()
    await store.create(store_key(session_id), {"user_id": user_id})
    return create_signed_value(SECRET, COOKIE_NAME, session_id).decode()


async def connect(url: str, cookie: str, *events: str) -> RecordingClient:
    client = RecordingClient(url, cookies={COOKIE_NAME: cookie}, events=events)
    await client.connect(url, transports=["websocket"], wait_timeout=5)
    return client


@pytest.mark.parametrize("store", ["redis", "mongodb"])
async def test_logout_on_one_process_ends_the_sockets_on_the_other(
    tmp_path: Path,
    redis_url: str,
    mongodb_url: str,
    store: str,
    processes: list[AppProcess],
    shared_store: list[SessionStore],
) -> None:
    text = settings_text(store, redis_url, mongodb_url)
    for name in ("a", "b"):
        processes.append(AppProcess(tmp_path / name, text))
    url_a, url_b = (process.wait_listening() for process in processes)
    sessions = build_session_store(load_settings(tmp_path / "a" / "settings.ini", environ={}))
    shared_store.append(sessions)
    alice = f"alice-{uuid.uuid4().hex[:8]}"
    laptop, phone = await log_in(sessions, alice), await log_in(sessions, alice)
    on_a = await connect(url_a, laptop, "session:ended")
    on_b = await connect(url_b, laptop, "session:ended")
    kept = await connect(url_a, phone, "session:ended")

    http = AsyncHTTPClient()
    xsrf = "2|abcdef01|" + "0" * 32 + "|1"
    response = await http.fetch(
        url_b + "/api/logout",
        method="POST",
        body=b"",
        raise_error=False,
        headers={"Cookie": f"{COOKIE_NAME}={laptop}; _xsrf={xsrf}", "X-XSRFToken": xsrf},
    )
    assert response.code == 204, response.body
    for client in (on_a, on_b):
        await disconnected(client, limit=2.0)
        assert client.received["session:ended"] == [{"reason": "logout"}]
    assert kept.connected
    await leave(kept)


async def test_a_crashed_process_stops_counting_its_sockets(
    tmp_path: Path,
    redis_url: str,
    mongodb_url: str,
    serve_app: ServeApp,
    processes: list[AppProcess],
    shared_store: list[SessionStore],
) -> None:
    """A process killed with its sockets open: within three heartbeats its users are
    offline, and a surviving process tells their friends."""
    survivor = await serve_app(
        app_settings(
            session={"store": "redis"},
            redis={"url": redis_url},
            # Beats of 0.5 s: a process starting under a loaded CI machine can miss three
            # beats of 0.2 s and be declared dead (and its users offline) while alive.
            socketio={"message_queue": redis_url, "presence_heartbeat": 0.5},
        )
    )
    watching = await survivor.login("bob")
    alice, bob = f"alice-{uuid.uuid4().hex[:8]}", await survivor.user_id("bob")

    async def friends(user_id: str) -> list[str]:
        return {alice: [bob], bob: [alice]}.get(user_id, [])

    survivor.app.sockets.directory = replace(survivor.app.sockets.directory, audience=friends)
    watcher = await survivor.socket(watching, events=("presence",))
    doomed = AppProcess(tmp_path / "doomed", settings_text("redis", redis_url, mongodb_url, "0.5s"))
    processes.append(doomed)
    url = doomed.wait_listening()
    sessions = build_session_store(load_settings(tmp_path / "doomed" / "settings.ini", environ={}))
    shared_store.append(sessions)
    client = await connect(url, await log_in(sessions, alice))
    assert await survivor.app.sockets.is_online(alice)
    doomed.process.kill()
    await eventually(lambda: len(watcher.received["presence"]) >= 1, limit=10.0)
    await asyncio.sleep(1.6)  # three more beats: no second announcement follows
    assert len(watcher.received["presence"]) == 1
    assert watcher.received["presence"][0]["user"]["id"] == alice
    assert watcher.received["presence"][0]["online"] is False
    assert not await survivor.app.sockets.is_online(alice)
    await leave(watcher)
    assert not client.connected  # its process is gone
