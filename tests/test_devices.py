"""Sessions and devices (the contract's section): see every login, end any of them live,
change the password, rotate the cookie secret, hear before a session expires.

On every store (start_app), over HTTP and sockets; across two processes at the end.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from tornado.web import create_signed_value

from chatapp.sessions.cookies import COOKIE_NAME, key_version, signed_key_version
from tests.apps import PASSWORD, Cluster, Running, ServeApp, StartApp, app_settings, leave, unique
from tests.client import Browser, body
from tests.helpers import barrier, call, disconnected, eventually

LAPTOP = "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36"
PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) Mobile/15E148 Safari/604.1"


async def sign_up(running: Running, username: str, agent: str = LAPTOP) -> Browser:
    return await _enter(running, "/api/signup", username, agent, PASSWORD, 201)


async def log_in(running: Running, username: str, agent: str, password: str = PASSWORD) -> Browser:
    return await _enter(running, "/api/login", username, agent, password, 200)


async def _enter(
    running: Running, path: str, username: str, agent: str, password: str, status: int
) -> Browser:
    """A browser with this User-Agent that signed up or logged in."""
    browser = running.browser()
    credentials = {"username": username, "password": password}
    response = await browser.request("POST", path, credentials, headers={"User-Agent": agent})
    assert response.code == status, response.body
    return browser


async def sessions(browser: Browser) -> list[dict[str, Any]]:
    response = await browser.request("GET", "/api/sessions")
    assert response.code == 200, response.body
    listed: list[dict[str, Any]] = body(response)["sessions"]
    return listed


def by_agent(listed: list[dict[str, Any]], agent: str) -> dict[str, Any]:
    return next(login for login in listed if login["user_agent"] == agent)


def parsed(iso: str) -> dt.datetime:
    assert iso.endswith("Z") or iso.endswith("+00:00"), iso
    return dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))


async def test_the_list_shows_every_login_with_this_one_marked(start_app: StartApp) -> None:
    running = await start_app()
    laptop = await sign_up(running, "alice")
    phone = await log_in(running, "alice", PHONE)
    tabs = [await running.socket(phone) for _ in range(2)]
    listed = await sessions(laptop)
    assert len(listed) == 2
    assert set(listed[0]) >= {"id", "current", "created_at", "last_seen", "user_agent", "sockets"}
    mine, theirs = by_agent(listed, LAPTOP), by_agent(listed, PHONE)
    assert (mine["current"], theirs["current"]) == (True, False)
    await eventually(lambda: _socket_count(laptop, PHONE, 2))
    assert mine["sockets"] == 0
    assert [parsed(login["last_seen"]) for login in listed] == sorted(
        (parsed(login["last_seen"]) for login in listed), reverse=True
    )
    for login in listed:
        assert parsed(login["created_at"]) <= parsed(login["last_seen"])
    # The handle is no session id, and no cookie either.
    session_ids = {running.app.cookies.session_id(b.cookies[COOKIE_NAME]) for b in (laptop, phone)}
    assert not session_ids & {login["id"] for login in listed}
    forged = running.browser()
    forged.cookies[COOKIE_NAME] = create_signed_value(
        running.app.cookies.secret, COOKIE_NAME, theirs["id"]
    ).decode()
    assert body(await forged.request("GET", "/api/session"))["authenticated"] is False
    assert (await running.browser().request("GET", "/api/sessions")).code == 401
    for tab in tabs:
        await leave(tab)


async def _socket_count(browser: Browser, agent: str, count: int) -> bool:
    return bool(by_agent(await sessions(browser), agent)["sockets"] == count)


async def test_ending_another_login_ends_its_sockets_live(start_app: StartApp) -> None:
    running = await start_app()
    laptop = await sign_up(running, "alice")
    phone = await log_in(running, "alice", PHONE)
    phone_tab = await running.socket(phone, events=("session:ended",))
    laptop_tab = await running.socket(laptop, events=("session:ended", "sessions:changed"))
    handle = by_agent(await sessions(laptop), PHONE)["id"]
    assert (await laptop.request("DELETE", f"/api/sessions/{handle}")).code == 204
    await disconnected(phone_tab, limit=1.0)
    assert phone_tab.received["session:ended"] == [{"reason": "revoked"}]
    assert body(await phone.request("GET", "/api/session"))["authenticated"] is False
    assert [login["user_agent"] for login in await sessions(laptop)] == [LAPTOP]
    await eventually(lambda: len(laptop_tab.received["sessions:changed"]) >= 1)
    assert laptop_tab.connected and laptop_tab.received["session:ended"] == []
    bob = await sign_up(running, "bob")
    bob_handle = (await sessions(bob))[0]["id"]
    for unknown in (handle, bob_handle, "x" * 32, "%C3%A9t%C3%A9", "0" * 500):
        response = await laptop.request("DELETE", f"/api/sessions/{unknown}")
        assert response.code == 404 and body(response)["error"]["code"] == "unknown_session"
    assert body(await bob.request("GET", "/api/session"))["authenticated"] is True
    await leave(laptop_tab)


async def test_ending_the_current_login_is_a_logout(start_app: StartApp) -> None:
    running = await start_app()
    laptop = await sign_up(running, "alice")
    tab = await running.socket(laptop, events=("session:ended",))
    handle = (await sessions(laptop))[0]["id"]
    assert (await laptop.request("DELETE", f"/api/sessions/{handle}")).code == 204
    assert COOKIE_NAME not in laptop.cookies
    await disconnected(tab, limit=1.0)
    assert tab.received["session:ended"] == [{"reason": "revoked"}]


async def test_log_out_everywhere_else(start_app: StartApp) -> None:
    running = await start_app()
    laptop = await sign_up(running, "alice")
    others = [await log_in(running, "alice", f"{PHONE} #{i}") for i in range(2)]
    other_tabs = [await running.socket(b, events=("session:ended",)) for b in others]
    own_tab = await running.socket(laptop, events=("session:ended",))
    assert (await laptop.request("DELETE", "/api/sessions")).code == 204
    for tab in other_tabs:
        await disconnected(tab, limit=1.0)
        assert tab.received["session:ended"] == [{"reason": "revoked"}]
    assert [login["current"] for login in await sessions(laptop)] == [True]
    await barrier(own_tab)
    assert own_tab.connected and own_tab.received["session:ended"] == []
    await leave(own_tab)


async def test_a_password_change_ends_other_logins_and_keeps_this_ones_sockets(
    start_app: StartApp,
) -> None:
    running = await start_app()
    laptop = await sign_up(running, "alice")
    phone = await log_in(running, "alice", PHONE)
    phone_tab = await running.socket(phone, events=("session:ended",))
    own_tab = await running.socket(laptop, events=("session:ended",))
    change = {"current_password": "wrong password", "new_password": "a new passphrase"}
    response = await laptop.request("PUT", "/api/password", change)
    assert response.code == 401 and body(response)["error"] == {
        "code": "bad_credentials",
        "message": "current password is wrong",
    }
    change = {"current_password": PASSWORD, "new_password": "short"}
    assert (await laptop.request("PUT", "/api/password", change)).code == 400
    old_cookie = laptop.cookies[COOKIE_NAME]
    change = {"current_password": PASSWORD, "new_password": "a new passphrase"}
    assert (await laptop.request("PUT", "/api/password", change)).code == 204
    await disconnected(phone_tab, limit=1.0)
    assert phone_tab.received["session:ended"] == [{"reason": "password_changed"}]
    assert laptop.cookies[COOKIE_NAME] != old_cookie  # a new id, set again
    replay = running.browser()
    replay.cookies[COOKIE_NAME] = old_cookie
    assert body(await replay.request("GET", "/api/session"))["authenticated"] is False
    assert body(await laptop.request("GET", "/api/session"))["authenticated"] is True
    # The caller's socket moved to the new id: connected, working, and its writes land.
    assert (await call(own_tab, "prefs:set", {"theme": "dark"}))["ok"] is True
    assert body(await laptop.request("GET", "/api/session"))["prefs"] == {"theme": "dark"}
    assert own_tab.received["session:ended"] == []
    assert by_agent(await sessions(laptop), LAPTOP)["sockets"] == 1
    old = {"username": "alice", "password": PASSWORD}
    assert (await running.browser().request("POST", "/api/login", old)).code == 401
    await log_in(running, "alice", PHONE, password="a new passphrase")
    await leave(own_tab)


async def test_session_get_tells_when_the_session_ends_and_a_warning_comes_once(
    start_app: StartApp,
) -> None:
    """idle_timeout 60 s: the session is within the 2 min - 30 s window from the start."""
    running = await start_app(idle_timeout=60, session_check_interval=0.1)
    browser = await running.login("alice")
    client = await running.socket(browser, events=("session:expiring",))
    ack = await call(client, "session:get")
    expires_at = parsed(ack["expires_at"])
    now = dt.datetime.now(dt.UTC)
    assert dt.timedelta(seconds=55) < expires_at - now <= dt.timedelta(seconds=60)
    await eventually(lambda: len(client.received["session:expiring"]) == 1)
    warned = parsed(client.received["session:expiring"][0]["expires_at"])
    assert abs((warned - expires_at).total_seconds()) < 2
    for _ in range(3):  # several more checks: no second warning for the same deadline
        await running.app.sockets.deadlines.run_due()
    await barrier(client)
    assert len(client.received["session:expiring"]) == 1
    await leave(client)


async def test_last_seen_moves_with_requests_and_socket_events(start_app: StartApp) -> None:
    running = await start_app(idle_timeout=60, touch_interval=0.05)
    laptop = await sign_up(running, "alice")
    first = parsed((await sessions(laptop))[0]["last_seen"])
    client = await running.socket(laptop)
    await eventually(lambda: _seen_after(running, laptop, first, client))
    await leave(client)


async def _seen_after(running: Running, browser: Browser, moment: dt.datetime, client: Any) -> bool:
    await call(client, "session:get")  # a socket event renews (and so moves last_seen)
    session_id = running.app.cookies.session_id(browser.cookies[COOKIE_NAME])
    record = await running.store.load(session_id or "")
    assert record is not None
    return dt.datetime.fromtimestamp(record.data["seen"], dt.UTC) > moment


async def test_the_cookie_secret_rotates_without_logging_anyone_out(
    serve_app: ServeApp, tmp_path: Path
) -> None:
    old, new, other = "o" * 40, "n" * 40, "x" * 40
    shared = {"store": "file", "file_dir": str(tmp_path / "sessions")}
    data = {"url": f"sqlite:///{tmp_path}/shared.sqlite3"}
    before = await serve_app(
        app_settings(session=shared, database=data, server={"cookie_secret": old})
    )
    browser = await sign_up(before, "alice")
    assert signed_key_version(browser.cookies[COOKIE_NAME]) == key_version(old)  # Tornado's
    after = await serve_app(
        app_settings(
            session=shared,
            database=data,
            server={"cookie_secret": new, "previous_cookie_secrets": (old,)},
        )
    )
    carried = after.browser_with(browser)
    state = await carried.request("GET", "/api/session")
    assert body(state)["authenticated"] is True
    resigned = carried.cookies[COOKIE_NAME]
    assert after.app.cookies.session_id(resigned) is not None  # set again, signed anew
    assert signed_key_version(resigned) == key_version(new)
    assert before.app.cookies.session_id(resigned) is None  # ...not with the old secret
    client = await after.socket(browser)  # a socket with the old-secret cookie too
    assert (await call(client, "session:get"))["ok"] is True
    await leave(client)
    stranger = await serve_app(
        app_settings(session=shared, database=data, server={"cookie_secret": other})
    )
    lost = stranger.browser_with(browser)
    assert body(await lost.request("GET", "/api/session"))["authenticated"] is False


async def test_revoking_in_one_process_ends_sockets_in_the_other(cluster: Cluster) -> None:
    a, b = await cluster()
    name = unique("alice")
    laptop = await a.login(name)
    phone = await a.login(name)
    on_a = await a.socket(phone, events=("session:ended",))
    on_b = await b.socket(phone, events=("session:ended",))
    listed = await sessions(laptop)
    handle = next(login["id"] for login in listed if not login["current"])
    await eventually(lambda: _count_sockets(laptop, handle, 2))
    assert (await b.browser_with(laptop).request("DELETE", f"/api/sessions/{handle}")).code == 204
    for client in (on_a, on_b):
        await disconnected(client, limit=1.0)
        assert client.received["session:ended"] == [{"reason": "revoked"}]


async def _count_sockets(browser: Browser, handle: str, count: int) -> bool:
    listed = await sessions(browser)
    return bool(next(login["sockets"] for login in listed if login["id"] == handle) == count)
