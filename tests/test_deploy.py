"""deploy/ as docs/DEPLOY.md installs it: nginx (TLS, sticky routing, upgrades) in front of
two run.py processes sharing Redis, driven by Chromium through nginx only.

One page of a login on long-polling (its WebSockets dropped, as some proxies
do) and one on WebSocket both get a friend's post made through nginx on the
other process; presence crosses processes; logout ends both. Then each
process is restarted in turn while a friend posts every second: every page
comes back by itself and shows every post once, in order.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import socketio
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.browser import PASSWORD, sign_up
from tests.client import Browser as ApiClient
from tests.deployment import Nginx, Processes
from tests.helpers import eventually

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def deployment(tmp_path: Path, redis_url: str) -> Iterator[tuple[Processes, Nginx]]:
    processes = Processes(tmp_path / "processes", redis_url)
    try:
        nginx = Nginx(tmp_path / "nginx", processes.backends)
    except BaseException:
        processes.stop()
        raise
    try:
        yield processes, nginx
    finally:
        nginx.stop()
        processes.stop()
    assert "[emerg]" not in nginx.errors()


async def api_member(url: str, username: str) -> ApiClient:
    client = ApiClient(url, validate_cert=False)
    signup = {"username": username, "password": PASSWORD}
    assert (await client.request("POST", "/api/signup", signup)).code == 201
    return client


async def served_by(processes: Processes, client: ApiClient) -> int:
    """Which process nginx sends this client's requests to (by its session cookie)."""
    probe = uuid.uuid4().hex
    await client.request("GET", f"/api/session?probe={probe}")
    await eventually(lambda: any(probe in "".join(p.output) for p in processes.running))
    return processes.which_logged(probe)


@pytest.fixture
async def context(
    chromium: Browser, deployment: tuple[Processes, Nginx]
) -> AsyncIterator[BrowserContext]:
    _, nginx = deployment
    context = await chromium.new_context(base_url=nginx.url, ignore_https_errors=True)
    yield context
    await context.close()


# Every WebSocket goes nowhere (port 9 of loopback refuses) and so fails with an error
# event, as one that a proxy does not pass fails.
BLOCKED_WEBSOCKETS = """
const RealWebSocket = window.WebSocket;
window.WebSocket = function (url, protocols) {
  return new RealWebSocket("ws://127.0.0.1:9/", protocols);
};
Object.assign(window.WebSocket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
window.WebSocket.prototype = RealWebSocket.prototype;
"""


async def polling_only(page: Page) -> None:
    """This page cannot open a WebSocket, as behind a proxy that does not pass them: the
    client's WebSocket attempt fails and it falls back to long-polling by itself."""
    await page.add_init_script(BLOCKED_WEBSOCKETS)


async def transports_used(page: Page) -> set[str]:
    """The Engine.IO transports this page's requests named (long-polling is plain HTTP)."""
    urls: list[str] = await page.evaluate(
        "performance.getEntriesByType('resource').map((entry) => entry.name)"
    )
    return {
        m.group(1)
        for url in urls
        if "sid=" in url and (m := re.search(r"[?&]transport=(\w+)", url))
    }


async def two_pages(context: BrowserContext, username: str) -> tuple[Page, Page]:
    """A login with one page on long-polling and one on WebSocket, both on the feed."""
    websocket = await sign_up(context, username)
    polling = await context.new_page()
    await polling_only(polling)
    await polling.goto("/")
    for page in (websocket, polling):
        await expect(page.locator("#connection")).to_be_hidden()
    await eventually(lambda: _uses(polling, {"polling"}), limit=10)
    assert await transports_used(websocket) == set()  # no long-poll with a sid: WebSocket
    return websocket, polling


async def _uses(page: Page, transports: set[str]) -> bool:
    return await transports_used(page) == transports


async def friend_on_the_other_process(
    processes: Processes, url: str, name: str, avoid: int
) -> tuple[ApiClient, str]:
    """A new user whose requests nginx sends to another process than `avoid`."""
    for attempt in range(20):
        username = f"{name}{attempt}"
        friend = await api_member(url, username)
        if await served_by(processes, friend) != avoid:
            return friend, username
    raise AssertionError("nginx sent 20 logins in a row to one process")


async def befriend(a: ApiClient, b: ApiClient, a_name: str, b_name: str) -> None:
    assert (await a.request("POST", f"/api/friends/{b_name}")).code == 200
    assert (await b.request("POST", f"/api/friends/{a_name}")).code == 200


async def api_client_of(context: BrowserContext, url: str) -> ApiClient:
    """The API as the browser's pages are logged in (its cookies)."""
    client = ApiClient(url, validate_cert=False)
    client.cookies = {c["name"]: c["value"] for c in await context.cookies()}
    return client


async def test_both_transports_through_nginx_across_processes(
    deployment: tuple[Processes, Nginx], context: BrowserContext
) -> None:
    processes, nginx = deployment
    websocket, polling = await two_pages(context, "alice")
    alice = await api_client_of(context, nginx.url)
    assert "__Host-chatapp_session" in alice.cookies  # Secure: TLS ends at nginx
    bob, bob_name = await friend_on_the_other_process(
        processes, nginx.url, "bob", avoid=await served_by(processes, alice)
    )
    await befriend(bob, alice, bob_name, "alice")

    text = f"Posted by {bob_name} on the other process"
    assert (await bob.request("POST", "/api/posts", {"text": text})).code == 201
    for page in (websocket, polling):
        await expect(page.locator(".post .text").first).to_have_text(text)

    # Presence across processes: bob's socket (through nginx, on his process) shows online.
    await websocket.goto("/friends")
    tab = socketio.AsyncClient(reconnection=False, ssl_verify=False)
    name = "__Host-chatapp_session"
    await tab.connect(
        nginx.url, headers={"Cookie": f"{name}={bob.cookies[name]}"}, transports=["websocket"]
    )
    friend = websocket.locator(f"li[data-user] >> text=@{bob_name}").locator("xpath=ancestor::li")
    await expect(friend.locator(".presence")).to_have_text("online")
    await tab.disconnect()
    await expect(friend.locator(".presence")).to_have_text("offline")

    await websocket.get_by_role("button", name="Log out").click()
    await expect(websocket).to_have_url(nginx.url + "/login")
    await expect(polling).to_have_url(nginx.url + "/login?ended=logout")  # says why


async def test_a_rolling_restart_loses_no_post(
    deployment: tuple[Processes, Nginx], context: BrowserContext
) -> None:
    processes, nginx = deployment
    websocket, polling = await two_pages(context, "carol")
    dave = await api_member(nginx.url, "dave")
    await befriend(dave, await api_client_of(context, nginx.url), "dave", "carol")
    posted: list[str] = []
    restarting = True

    async def keep_posting() -> None:
        n = 0
        while restarting:
            text = f"post {n:03d}"
            response = await dave.request("POST", "/api/posts", {"text": text})
            if response.code == 201:  # a 502 while nginx finds a process gone is retried
                posted.append(text)
                n += 1
            await asyncio.sleep(1)

    poster = asyncio.ensure_future(keep_posting())
    await asyncio.sleep(2)
    for index in range(len(processes.running)):
        await asyncio.to_thread(processes.restart, index)
        await asyncio.sleep(3)
    restarting = False
    await poster
    assert len(posted) >= 8
    expected = list(reversed(posted))  # the feed shows the newest first
    for page in (websocket, polling):
        await expect(page.locator("#connection")).to_be_hidden()
        await expect(page.locator(".post .text")).to_have_text(expected, timeout=15_000)
