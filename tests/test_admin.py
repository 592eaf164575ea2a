"""The Socket.IO Admin UI (chatapp.realtime.admin): served and instrumented only when
`[admin] users` names someone, its socket admitted by such a user's login alone, and
ended with that login, in every process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import socketio
from playwright.async_api import Browser as PlaywrightBrowser
from playwright.async_api import expect

from chatapp.realtime.admin import NAMESPACE
from tests.apps import Running, ServeApp, app_settings, leave
from tests.browser import person, snapshot
from tests.client import Browser
from tests.helpers import RecordingClient, eventually

ADMIN = {"users": ["alice"], "stats_interval": 0.1}


async def admin_socket(running: Running, browser: Browser | None) -> RecordingClient:
    name = running.app.cookies.name
    cookies = {name: browser.cookies[name]} if browser and name in browser.cookies else {}
    client = RecordingClient(running.url, cookies=cookies)
    for event in ("config", "server_stats", "connect_error"):
        client.received[event] = []
        client.on(event, client.received[event].append, namespace=NAMESPACE)
    try:
        await client.connect(
            running.url, namespaces=[NAMESPACE], transports=["websocket"], wait_timeout=5
        )
    except socketio.exceptions.ConnectionError as exc:
        raise socketio.exceptions.ConnectionError(f"{client.received['connect_error']}") from exc
    return client


async def refusal(running: Running, browser: Browser | None) -> str:
    with pytest.raises(socketio.exceptions.ConnectionError) as refused:
        client = await admin_socket(running, browser)
        await client.disconnect()
    return str(refused.value)


async def test_an_admins_login_watches_the_server_read_only(serve_app: ServeApp) -> None:
    running = await serve_app(app_settings(admin=ADMIN))
    alice = await running.login("alice")
    user_socket = await running.socket(await running.login("bob"))
    watching = await admin_socket(running, alice)
    try:
        await eventually(lambda: bool(watching.received["config"]))
        features = watching.received["config"][0]["supportedFeatures"]
        assert "EMIT" not in features and "DISCONNECT" not in features  # read_only
        assert "ALL_EVENTS" not in features  # production mode: no handshakes shown

        def stats() -> dict[str, Any]:
            return (
                watching.received["server_stats"][-1] if watching.received["server_stats"] else {}
            )

        await eventually(lambda: stats().get("clientsCount") == 2)  # bob's and the UI's
        assert {"name": "/", "socketsCount": 1} in stats()["namespaces"]
    finally:
        await watching.disconnect()
        await user_socket.disconnect()


async def test_only_a_listed_users_login_is_admitted(serve_app: ServeApp) -> None:
    running = await serve_app(app_settings(admin=ADMIN))
    assert "invalid credentials" in await refusal(running, await running.login("bob"))
    assert "invalid credentials" in await refusal(running, running.browser())
    assert "invalid credentials" in await refusal(running, None)


async def test_without_admin_users_nothing_is_served_or_instrumented(
    serve_app: ServeApp,
) -> None:
    running = await serve_app(app_settings())
    assert running.app.admin is None
    response = await running.browser().request("GET", "/admin/")
    assert response.code == 404
    assert await refusal(running, await running.login("alice"))


async def test_the_page_is_served_with_its_own_policy(serve_app: ServeApp) -> None:
    running = await serve_app(app_settings(admin=ADMIN))
    page = await running.browser().request("GET", "/admin/")
    assert page.code == 200 and b"Socket.IO Admin UI" in page.body
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy
    moved = await running.browser().request("GET", "/admin")
    assert moved.code == 301 and moved.headers["Location"] == "/admin/"


async def test_a_logout_in_another_process_ends_the_admin_socket(
    serve_app: ServeApp, redis_url: str, tmp_path: Path
) -> None:
    settings = app_settings(
        session={"store": "redis"},
        redis={"url": redis_url},
        database={"url": f"sqlite:///{tmp_path}/shared.sqlite3"},
        socketio={"message_queue": redis_url, "presence_heartbeat": 0.2},
        admin=ADMIN,
    )
    a, b = await serve_app(settings), await serve_app(settings)
    alice = await a.login("alice")
    polling = await a.socket(alice, "polling")  # two instrumented servers: POSTs still work
    await leave(polling)
    watching = await admin_socket(a, alice)
    assert (await b.browser_with(alice).request("POST", "/api/logout")).code == 204
    await eventually(lambda: not watching.connected, limit=5)


@pytest.mark.browser
async def test_the_admin_ui_connects_with_the_login_in_chromium(
    chromium: PlaywrightBrowser, serve_app: ServeApp
) -> None:
    # Whole seconds: the handshake states the ping interval in them (0.5 would say 0).
    beats = {"ping_interval": 5, "ping_timeout": 5}
    site = await serve_app(app_settings(session={"store": "memory"}, socketio=beats, admin=ADMIN))
    context, _ = await person(chromium, site, "alice")
    await context.route("https://**", lambda route: route.abort())  # its CDN fonts: offline
    page = await context.new_page()
    await page.goto("/admin/")
    await page.get_by_label("Server URL").fill(site.url)
    await page.get_by_role("button", name="Connect").click()
    await expect(page.get_by_text("connected", exact=True).first).to_be_visible()
    namespaces = page.locator("tr", has=page.locator("code", has_text="/admin"))
    await expect(namespaces).to_have_count(1)
    await expect(page.locator("tr", has=page.get_by_text("/", exact=True))).to_have_count(1)
    await snapshot(page, "admin-ui")

    other, stranger = await person(chromium, site, "bob")  # not in [admin] users
    await other.route("https://**", lambda route: route.abort())
    await stranger.goto("/admin/")
    await stranger.get_by_label("Server URL").fill(site.url)
    await stranger.get_by_role("button", name="Connect").click()
    await expect(stranger.get_by_text("Invalid credentials")).to_be_visible()
