"""One session, one way: HTTP and sockets write it alike, and no socket outlives it.

Each test names a fault that users or attackers found and the rule that now
holds; every store runs them (`all_stores`, see tests/conftest.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import aiohttp
import pytest
import socketio

from chatapp.sessions.cookies import COOKIE_NAME
from chatapp.sessions.session import Session, new_session_id
from stores.base import SessionStore
from stores.errors import StoreUnavailable
from stores.memory import MemorySessionStore
from tests.apps import Running, StartApp, leave
from tests.client import Browser, body
from tests.helpers import barrier, call, eventually

pytestmark = pytest.mark.all_stores


async def test_a_hundred_mixed_http_and_socket_writes_of_one_key_all_succeed(
    start_app: StartApp,
) -> None:
    """Before: 48 to 50 of 50 HTTP writes got 409 while socket writes retried and won."""
    running = await start_app(event_burst=200)
    browser = await running.login("alice")
    tabs = [await running.socket(browser) for _ in range(2)]
    themes = ["light", "dark"]
    http = [browser.request("PUT", "/api/prefs", {"theme": themes[i % 2]}) for i in range(50)]
    sockets = [call(tabs[i % 2], "prefs:set", {"theme": themes[i % 2]}) for i in range(50)]
    responses = await asyncio.gather(*http)
    acks = await asyncio.gather(*sockets)
    assert [r.code for r in responses] == [200] * 50
    assert all(ack["ok"] for ack in acks)
    seen_by_http = body(await browser.request("GET", "/api/session"))["prefs"]
    for tab in tabs:
        assert (await call(tab, "session:get"))["prefs"] == seen_by_http
        await leave(tab)


class CountingStore:
    """Counts calls to a real store's methods (the store itself still does the work)."""

    def __init__(self, store: SessionStore) -> None:
        self.calls: list[str] = []
        for name in ("load", "save", "touch", "create", "destroy"):
            setattr(store, name, self._counted(name, getattr(store, name)))

    def _counted(
        self, name: str, method: Callable[..., Awaitable[Any]]
    ) -> Callable[..., Awaitable[Any]]:
        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            return await method(*args, **kwargs)

        return counted


async def test_a_socket_write_costs_one_read_and_one_write_renewal_included(
    start_app: StartApp,
) -> None:
    """Before: a due renewal plus a write were two writes."""
    running = await start_app(idle_timeout=60, touch_interval=0.01)
    client = await running.socket(await running.login("alice"))
    await asyncio.sleep(0.05)  # the renewal is due (touch_interval passed)
    counter = CountingStore(running.store)
    assert (await call(client, "prefs:set", {"theme": "dark"}))["ok"] is True
    assert counter.calls == ["load", "save"]
    counter.calls.clear()
    await asyncio.sleep(0.05)
    assert (await call(client, "session:get"))["ok"] is True
    assert counter.calls == ["load", "save"]  # a due renewal of a login also moves last_seen
    await leave(client)


async def test_committing_twice_in_one_request_renews_once() -> None:
    """`session:get` commits early (its answer names the renewed expiry); the final commit
    renewed again when touch_interval had passed meanwhile: a second write (seen in CI)."""
    store = MemorySessionStore(idle_timeout=60, absolute_timeout=3600)
    record = await store.create(new_session_id(), {"user_id": "alice"})
    await asyncio.sleep(0.03)
    session = Session(store, record, touch_interval=0.01)
    counter = CountingStore(store)
    await session.commit()
    await asyncio.sleep(0.03)  # due again by the clock
    await session.commit()
    assert counter.calls == ["save"]
    session["pref:theme"] = "dark"
    await session.commit()
    assert counter.calls == ["save", "save"]  # what is written later is still saved


@pytest.mark.parametrize("name", ["disconnect", "connect", "connect_error", "disconnecting"])
async def test_client_events_with_lifecycle_names_are_refused(
    start_app: StartApp, name: str
) -> None:
    """Before: emitting "disconnect" ran the server's disconnect handler on a live socket."""
    running = await start_app()
    alice = await running.login("alice")
    friend = await running.socket(await running.login("bob"), events=("presence",))
    alice_id, bob_id = await running.user_id("alice"), await running.user_id("bob")

    async def friends_of(user_id: str) -> list[str]:
        return {alice_id: [bob_id], bob_id: [alice_id]}.get(user_id, [])

    running.app.sockets.directory = replace(running.app.sockets.directory, audience=friends_of)
    client = await running.socket(alice)
    await eventually(lambda: len(friend.received["presence"]) == 1)
    ack = await call(client, name, {})
    assert ack["ok"] is False and ack["error"]["code"] == "unknown_event"
    assert client.connected and (await call(client, "session:get"))["ok"] is True
    assert await running.app.sockets.socket_count(alice_id) == 1
    await barrier(friend)
    assert [p["online"] for p in friend.received["presence"]] == [True]
    await leave(client)
    await leave(friend)


def _intercept_recheck(
    running: Running, before: Callable[[], Awaitable[None]], after: Callable[[], Awaitable[None]]
) -> None:
    """Run `before`/`after` around the store read that re-checks a connecting socket's session."""
    touch = running.store.touch

    async def intercepted(session_id: str) -> float | None:
        await before()
        result = await touch(session_id)
        await after()
        return result

    running.store.touch = intercepted  # type: ignore[method-assign]


async def nothing() -> None:
    pass


def logout_of(running: Running, browser: Browser) -> Callable[[], Awaitable[None]]:
    """A logout of this browser's session, made from a copy (the browser keeps its cookie)."""

    async def log_out() -> None:
        other = running.browser_with(browser)
        assert (await other.request("POST", "/api/logout")).code == 204

    return log_out


async def test_a_logout_while_a_socket_is_joining_refuses_it(start_app: StartApp) -> None:
    """The socket is in its session's room before the second check: either sees the logout."""
    running = await start_app()
    browser = await running.login("alice")
    _intercept_recheck(running, logout_of(running, browser), nothing)
    with pytest.raises(socketio.exceptions.ConnectionError, match="unauthorized"):
        await running.socket(browser)
    assert await running.app.sockets.socket_count(await running.user_id("alice")) == 0


async def test_a_logout_just_before_a_connect_completes_ends_the_socket(
    start_app: StartApp,
) -> None:
    """Before: a socket whose connect was in flight survived the logout for up to 26 s."""
    running = await start_app()
    browser = await running.login("alice")
    _intercept_recheck(running, nothing, logout_of(running, browser))
    client = await running.socket(browser, events=("session:ended",))
    await eventually(lambda: not client.connected, limit=2.0)
    assert client.received["session:ended"] == [{"reason": "logout"}]
    assert await running.app.sockets.socket_count(await running.user_id("alice")) == 0


async def test_a_refused_connect_undoes_what_it_registered(start_app: StartApp) -> None:
    """Before: a connect refused after registering left the user online and its slot taken."""
    running = await start_app(max_sockets_per_user=1)
    browser = await running.login("alice")

    async def unavailable() -> None:
        raise StoreUnavailable("the test took the store away")

    touch = running.store.touch
    _intercept_recheck(running, unavailable, nothing)
    with pytest.raises(socketio.exceptions.ConnectionError, match="unavailable"):
        await running.socket(browser)
    alice = await running.user_id("alice")
    assert await running.app.sockets.socket_count(alice) == 0
    assert not await running.app.sockets.is_online(alice)
    running.store.touch = touch  # type: ignore[method-assign]
    client = await running.socket(browser)  # the one slot is free
    await leave(client)


async def test_a_rename_shows_in_every_login_of_the_user(start_app: StartApp) -> None:
    """Before: the user was copied into each session; other logins kept the old name."""
    running = await start_app()
    laptop, phone = await running.login("alice"), await running.login("alice")
    on_phone = await running.socket(phone)
    on_laptop = await running.socket(laptop)
    ack = await call(on_laptop, "profile:rename", {"display_name": "Alice Liddell"})
    assert ack["ok"] is True
    assert body(await phone.request("GET", "/api/session"))["user"]["display_name"] == (
        "Alice Liddell"
    )
    assert (await call(on_phone, "session:get"))["user"]["display_name"] == "Alice Liddell"
    for client in (on_phone, on_laptop):
        await leave(client)


async def test_the_engine_io_sid_never_reaches_the_log_and_binds_to_the_cookie(
    start_app: StartApp, caplog: pytest.LogCaptureFixture
) -> None:
    """Before: the sid was in every access log line, and it alone let anyone act as the user."""
    running = await start_app()
    alice, mallory = await running.login("alice"), await running.login("mallory")
    caplog.set_level(logging.DEBUG)
    client = await running.socket(alice, "polling")
    sid = client.eio.sid
    assert (await call(client, "session:get"))["ok"] is True
    assert sid not in caplog.text
    url = f"{running.url}/socket.io/?EIO=4&transport=polling&sid={sid}"
    event = '42["prefs:set",{"theme":"dark"}]'
    for cookies in ({}, {COOKIE_NAME: mallory.cookies[COOKIE_NAME]}):
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar, cookies=cookies) as http:
            async with http.post(url, data=event) as response:
                assert response.status == 403
                assert (await response.json())["error"]["code"] == "forbidden"
            async with http.get(url) as response:
                assert response.status == 403
    assert body(await alice.request("GET", "/api/session"))["prefs"] == {"theme": "light"}
    assert (await call(client, "session:get"))["ok"] is True
    await leave(client)
