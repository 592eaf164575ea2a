"""Redis that survives losing a machine: Sentinel names a new primary, chatapp follows.

One primary, one replica, three sentinels on loopback; two apps (as two
processes) use the group for sessions, the login throttle, presence,
control and the message queue through one `redis+sentinel://` URL. The
primary is killed while both serve open sockets: within 15 s of the kill,
logins, session writes and pushes across the two work again, with no
restart, and the sockets opened before still get pushes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.apps import PASSWORD, ServeApp, app_settings, leave
from tests.client import body
from tests.helpers import eventually
from tests.servers import SentinelGroup

pytestmark = pytest.mark.slow

FAILOVER_LIMIT = 15.0


@pytest.fixture
def sentinel_group(tmp_path: Path) -> Iterator[SentinelGroup]:
    group = SentinelGroup(tmp_path / "redis").start()
    try:
        yield group
    finally:
        group.stop()


async def test_a_lost_primary_costs_seconds_and_nothing_else(
    sentinel_group: SentinelGroup, serve_app: ServeApp, tmp_path: Path
) -> None:
    url = sentinel_group.url
    settings = app_settings(
        session={"store": "redis"},
        redis={"url": url, "timeout": 1},
        database={"url": f"sqlite:///{tmp_path}/shared.sqlite3"},
        socketio={"message_queue": url, "presence_heartbeat": 0.5},
    )
    first, second = await serve_app(settings), await serve_app(settings)
    alice, bob = await first.member("alice"), await second.member("bob")
    await alice.request("POST", "/api/friends/bob")
    assert (await bob.request("POST", "/api/friends/alice")).code == 200
    bobs_tab = await second.socket(bob, events=("feed:post",))
    alices_tab = await first.socket(alice)
    old_primary = sentinel_group.primary_port()

    sentinel_group.kill_primary()
    killed = time.monotonic()
    await eventually(lambda: sentinel_group.primary_port() != old_primary, limit=FAILOVER_LIMIT)

    async def logins_work() -> bool:
        credentials = {"username": "alice", "password": PASSWORD}
        codes = [
            (await app.browser().request("POST", "/api/login", credentials)).code
            for app in (first, second)
        ]
        return codes == [200, 200]

    async def session_writes_work() -> bool:
        response = await alice.request("PUT", "/api/prefs", {"theme": "dark"})
        return response.code == 200 and body(response)["prefs"]["theme"] == "dark"

    posted: list[str] = []

    async def pushes_work() -> bool:
        text = f"after the failover {len(posted)}"
        if (await alice.request("POST", "/api/posts", {"text": text})).code != 201:
            return False
        posted.append(text)
        try:
            await eventually(
                lambda: text in [p["text"] for p in bobs_tab.received["feed:post"]], limit=1
            )
        except AssertionError:
            return False
        return True

    for works in (logins_work, session_writes_work, pushes_work):
        left = FAILOVER_LIMIT - (time.monotonic() - killed)
        await eventually(works, limit=max(left, 0.1))
    assert bobs_tab.connected and alices_tab.connected  # the sockets from before
    await leave(bobs_tab)
    await leave(alices_tab)
