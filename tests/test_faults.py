"""A session store that goes away, as networks lose servers: refused, or black-holed.

Through tests/faults.py's proxy between the app and a real Redis or MongoDB:
a request that needs the session answers 503 within 3 s and is never taken
for logged in; /healthz answers at once (under 100 ms) and names the part
that is down; open sockets stay connected; when the server is back, the
same process serves again within 10 s, with no restart.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.apps import Running, ServeApp, app_settings, leave, unique
from tests.client import Browser, body
from tests.faults import FaultyProxy, Mode, faulty_proxy
from tests.helpers import call, eventually
from tests.servers import RedisServer

pytestmark = pytest.mark.slow

STORES = ["redis", "mongodb-pymongo", "mongodb-motor"]


@pytest.fixture(params=STORES)
async def through_proxy(
    request: pytest.FixtureRequest, serve_app: ServeApp
) -> AsyncIterator[tuple[Running, FaultyProxy]]:
    store, _, driver = request.param.partition("-")
    target = request.getfixturevalue("redis_url" if store == "redis" else "mongodb_url")
    async with faulty_proxy(target) as proxy:
        sections: dict[str, Any] = {"session": {"store": store}}
        if store == "redis":  # the login throttle's counts go there too
            sections["redis"] = {"url": proxy.url("redis", "/0"), "timeout": 2}
        else:
            # directConnection: the server may name its own address for a replica set,
            # which the driver would then use, around the proxy.
            database = f"/faults_{uuid.uuid4().hex[:12]}?directConnection=true"
            sections["mongodb"] = {"url": proxy.url("mongodb", database), "driver": driver}
        yield await serve_app(app_settings(**sections)), proxy


async def timed(browser: Browser, path: str) -> tuple[float, int, Any]:
    started = time.monotonic()
    response = await browser.request("GET", path)
    return time.monotonic() - started, response.code, body(response)


@pytest.mark.parametrize("mode", ["refuse", "blackhole"])
async def test_a_lost_store_is_a_fast_503_and_comes_back_by_itself(
    through_proxy: tuple[Running, FaultyProxy], mode: Mode, caplog: pytest.LogCaptureFixture
) -> None:
    running, proxy = through_proxy
    alice = await running.login(unique("alice"))
    tab = await running.socket(alice)
    assert (await call(tab, "session:get"))["ok"] is True

    proxy.set(mode)
    took, code, answer = await timed(alice, "/api/session")
    assert code == 503 and answer["error"]["code"] == "backend_unavailable", (code, answer)
    assert took < 3.0, f"503 after {took:.2f} s"

    async def healthz_names_the_store() -> bool:
        _, code, report = await timed(running.browser(), "/healthz")
        return code == 503 and report["failing"] == ["session_store"]

    caplog.set_level(logging.INFO, logger="tornado.access")
    await eventually(healthz_names_the_store, limit=4)
    # As the server measured each answer (its access log): the client's own clock here
    # shares the loop with everything else the test does.
    health_ms = [float(m) for m in re.findall(r"GET /healthz \S+ ([\d.]+)ms", caplog.text)]
    assert health_ms and max(health_ms) < 100, f"/healthz took up to {max(health_ms)} ms"
    ack = await call(tab, "session:get")
    assert ack["ok"] is False and ack["error"]["code"] == "backend_unavailable"
    assert tab.connected

    proxy.set("pass")
    healed = time.monotonic()

    async def logged_in_again() -> bool:
        _, code, answer = await timed(alice, "/api/session")
        return code == 200 and answer["authenticated"] is True

    await eventually(logged_in_again, limit=10)
    await eventually(lambda: _healthy(running), limit=10 - (time.monotonic() - healed))
    assert tab.connected
    assert (await call(tab, "session:get"))["ok"] is True
    await leave(tab)


async def _healthy(running: Running) -> bool:
    return (await running.browser().request("GET", "/healthz")).code == 200


async def test_pushes_across_processes_resume_after_redis_restarts(
    serve_app: ServeApp, tmp_path: Path
) -> None:
    """Redis killed and started again (same port, empty: no persistence) under two apps
    sharing it for sessions and the message queue, while a friend keeps posting: once
    it is back, posts made on one reach open sockets on the other, with no restart."""
    redis = RedisServer(tmp_path / "redis").start()
    try:
        settings = app_settings(
            session={"store": "redis"},
            redis={"url": redis.url, "timeout": 1},
            database={"url": f"sqlite:///{tmp_path}/shared.sqlite3"},
            socketio={"message_queue": redis.url, "presence_heartbeat": 0.5},
        )
        first, second = await serve_app(settings), await serve_app(settings)
        alice, bob = await first.login("alice"), await second.login("bob")
        await alice.request("POST", "/api/friends/bob")
        assert (await bob.request("POST", "/api/friends/alice")).code == 200
        tab = await second.socket(bob, events=("feed:post",))
        redis.kill()
        while_down = await alice.request("POST", "/api/posts", {"text": "while Redis is down"})
        assert while_down.code == 503  # the session cannot be read: never taken for anonymous
        redis.start()
        # Redis came back empty (no persistence): the login is gone; log in again.
        alice = await first.login("alice")
        posted: list[str] = []

        async def delivered() -> bool:
            text = f"after the restart {len(posted)}"
            assert (await alice.request("POST", "/api/posts", {"text": text})).code == 201
            posted.append(text)
            await asyncio.sleep(0.2)
            return text in [post["text"] for post in tab.received["feed:post"]]

        await eventually(delivered, limit=10)
        assert tab.connected
        await leave(tab)
    finally:
        redis.stop()
