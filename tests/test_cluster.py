"""Several app instances sharing a Redis message queue and session store act as one.

Two apps in this test's event loop, each with its own HTTP server and its own
python-socketio manager, presence and control connections: everything they
share goes through Redis, as between processes. (tests/test_processes.py
does the same with real run.py processes.)
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace

import pytest

from chatapp.backends import connect_redis
from chatapp.realtime.presence import LocalPresence, Presence, RedisPresence
from tests.apps import PASSWORD, Cluster, Running, leave, unique
from tests.helpers import arrived, call, disconnected, eventually


async def test_a_push_from_one_process_reaches_sockets_on_the_other(cluster: Cluster) -> None:
    a, b = await cluster()
    alice = unique("alice")
    browser = await a.login(alice)
    on_a = await a.socket(browser, events=("notification",))
    on_b = await b.socket(browser, events=("notification",))
    await b.app.sockets.push_to_user(await b.user_id(alice), "notification", {"n": 1})
    for client in (on_a, on_b):
        await arrived(client, "notification", [{"n": 1}])
    await leave(on_a)
    await leave(on_b)


async def test_logout_on_one_process_ends_the_sockets_on_the_other(cluster: Cluster) -> None:
    a, b = await cluster()
    alice = unique("alice")
    laptop, phone = await a.login(alice), await a.login(alice)
    ended = [
        await a.socket(laptop, events=("session:ended",)),
        await b.socket(laptop, events=("session:ended",)),
    ]
    kept = await a.socket(phone, events=("session:ended",))
    assert (await b.browser_with(laptop).request("POST", "/api/logout")).code == 204
    for client in ended:
        await disconnected(client, limit=1.0)
        assert client.received["session:ended"] == [{"reason": "logout"}]
    assert kept.connected and (await call(kept, "session:get"))["ok"] is True
    await leave(kept)


async def test_presence_counts_tabs_in_every_process(cluster: Cluster) -> None:
    a, b = await cluster()
    alice_name, bob_name = unique("alice"), unique("bob")
    watching, browser = await a.login(bob_name), await a.login(alice_name)
    alice, bob = await a.user_id(alice_name), await a.user_id(bob_name)

    async def friends(user_id: str) -> list[str]:
        return {alice: [bob], bob: [alice]}.get(user_id, [])

    for app in (a.app, b.app):
        app.sockets.directory = replace(app.sockets.directory, audience=friends)
    watcher = await a.socket(watching, events=("presence",))
    tab_a = await a.socket(browser)
    tab_b = await b.socket(browser)
    assert await a.app.sockets.is_online(alice) and await b.app.sockets.is_online(alice)
    await leave(tab_a)
    await eventually(lambda: _count(b, alice, 1))
    await leave(tab_b)
    await eventually(lambda: len(watcher.received["presence"]) == 2)
    assert [p["online"] for p in watcher.received["presence"]] == [True, False]
    assert not await a.app.sockets.is_online(alice)
    await leave(watcher)


async def _count(running: Running, user_id: str, count: int) -> bool:
    return await running.app.sockets.socket_count(user_id) == count


async def test_failed_logins_count_in_every_process(cluster: Cluster) -> None:
    """Before: each process kept its own counts, so N processes allowed N times the guesses."""
    first, second = await cluster()
    await first.member("alice")

    async def log_in(app: Running, password: str) -> int:
        response = await app.browser().request(
            "POST", "/api/login", {"username": "alice", "password": password}
        )
        return response.code

    codes = [await log_in((first, second)[n % 2], "wrong-password") for n in range(10)]
    assert codes == [401] * 10  # five failures in each process
    assert await log_in(first, PASSWORD) == 429  # counted together: throttled in both
    assert await log_in(second, PASSWORD) == 429


@pytest.mark.parametrize("kind", ["local", "redis"])
async def test_presence_says_who_of_many_is_online_in_one_call(kind: str, redis_url: str) -> None:
    """A room's offline notifications ask about every member at once (one Redis round trip)."""
    if kind == "local":
        presence: Presence = LocalPresence()
    else:
        client = connect_redis(redis_url, 5)
        presence = RedisPresence(client, prefix=f"t{uuid.uuid4().hex[:8]}:")
        await presence.start(lambda _: asyncio.sleep(0))
    try:
        for user in ("1", "2", "2"):
            await presence.joined(user)
        await presence.left("2")
        assert await presence.online(["1", "2", "3"]) == {"1", "2"}
        await presence.left("2")
        assert await presence.online(["1", "2", "3"]) == {"1"}
        assert await presence.online([]) == set()
    finally:
        await presence.stop()
        if kind == "redis":
            await client.aclose()
