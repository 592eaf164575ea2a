"""A running chatapp on a free port, in the test's event loop, over a store of the test's kind.

`/test/login` logs in as a user named in the body, creating that user (with no
usable password) if needed, so session tests need no bcrypt; `/test/set` and the
`test:set` socket event write one arbitrary session key, each a blind write.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import socketio
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from chatapp.app import ChatApp
from chatapp.schemas import Payload
from chatapp.settings import (
    DatabaseSettings,
    SessionSettings,
    Settings,
)
from chatapp.social.base import UsernameTaken
from chatapp.social.models import User
from handlers import make_app
from handlers.base import ApiHandler
from handlers.socket_events import Event
from stores.base import SessionStore
from tests.client import Browser
from tests.conftest import StoreFactory
from tests.helpers import RecordingClient

SECRET = "test-secret-" + "x" * 40
PASSWORD = "correct horse battery"


class TestLogin(Payload):
    username: str


class TestKey(Payload):
    key: str
    value: Any


class LoginForTest(ApiHandler):
    async def post(self) -> None:
        user = await ensure_user(self.application, self.body(TestLogin).username)
        await self.session.log_in(user.id, self.device())
        self.send_json({"user": user.public()})


async def ensure_user(app: ChatApp, username: str) -> User:
    """The user with this username, created (with no usable password) if absent."""
    account = await app.db.account(username)
    if account is not None:
        return account.user
    try:
        return await app.db.create_user(username, username, "!")
    except UsernameTaken:  # created by a concurrent request meanwhile
        return await ensure_user(app, username)


class SetKeyForTest(ApiHandler):
    async def post(self) -> None:
        body = self.body(TestKey)
        self.session[body.key] = body.value
        self.send_json({})


@dataclass
class Running:
    app: ChatApp
    store: SessionStore
    url: str

    def browser(self) -> Browser:
        return Browser(self.url)

    def browser_with(self, other: Browser) -> Browser:
        """A browser on this app holding another's cookies: the same login, another process."""
        browser = self.browser()
        browser.cookies = dict(other.cookies)
        return browser

    async def login(self, username: str) -> Browser:
        """A browser logged in as this user (created on first use)."""
        browser = self.browser()
        response = await browser.request("POST", "/test/login", {"username": username})
        assert response.code == 200, response.body
        return browser

    async def member(self, username: str) -> Browser:
        """A browser that signed up through the API (bcrypt and all) as this user."""
        browser = self.browser()
        response = await browser.request(
            "POST", "/api/signup", {"username": username, "password": PASSWORD}
        )
        assert response.code == 201, response.body
        return browser

    async def user_id(self, username: str) -> str:
        """The id of a user that `login` created."""
        return (await ensure_user(self.app, username)).id

    async def socket(
        self,
        browser: Browser | None,
        transport: str = "websocket",
        *,
        origin: str | None = None,
        events: tuple[str, ...] = (),
    ) -> RecordingClient:
        """A connected client that records the named server events in `client.received`."""
        cookies, name = {}, self.app.cookies.name  # __Host-... with secure_cookies
        if browser is not None and name in browser.cookies:
            cookies[name] = browser.cookies[name]
        client = RecordingClient(self.url, cookies=cookies, events=events)
        headers = {}
        if origin is not None:
            headers["Origin"] = origin
        refusals: list[object] = []
        client.on("connect_error", refusals.append)
        try:
            await client.connect(self.url, headers=headers, transports=[transport], wait_timeout=5)
        except socketio.exceptions.ConnectionError as exc:
            raise socketio.exceptions.ConnectionError(f"{exc}: {refusals}") from None
        return client


async def leave(client: socketio.AsyncClient) -> None:
    """Disconnect without waiting for the long-poll GET to come back.

    On a client's CLOSE, python-engineio's server releases a pending polling
    GET only at the ping timeout (up to 45 s), and the Python client's
    disconnect() waits for it; a browser aborts its GET instead. The server
    side is the same either way: the socket ends at once.
    """
    await client.eio.disconnect(abort=True)


StartApp = Callable[..., Awaitable[Running]]


def _register_test_event(app: ChatApp) -> None:
    namespace = app.sio.namespace_handlers["/"]

    async def set_key(event: Event) -> dict[str, Any]:
        event.session[event.data["key"]] = event.data["value"]
        return {}

    namespace.events["test:set"] = set_key


ServeApp = Callable[..., Awaitable[Running]]


@pytest.fixture
async def serve_app(tmp_path: Path) -> AsyncIterator[ServeApp]:
    """Serves apps built from given settings on free ports; stops them after the test.

    Unless the settings name a database, each app gets a SQLite file of the
    test's own, and the file store a folder of the test's own (shared by its
    apps, as by the processes of one deployment): tests never write to the
    repository's var/.
    """
    servers: list[tuple[HTTPServer, ChatApp]] = []

    async def serve(settings: Settings, store: SessionStore | None = None) -> Running:
        if settings.database == DatabaseSettings():
            url = f"sqlite:///{tmp_path}/chatapp-{len(servers)}.sqlite3"
            settings = settings.changed(database={"url": url})
        if settings.session.file_dir == SessionSettings().file_dir:
            settings = settings.changed(session={"file_dir": str(tmp_path / "sessions")})
        app = make_app(settings, store=store)
        app.add_handlers(r".*", [(r"/test/login", LoginForTest), (r"/test/set", SetKeyForTest)])
        _register_test_event(app)
        await app.start()
        sockets = bind_sockets(0, "127.0.0.1")
        server = HTTPServer(app, **app.server_options())
        server.add_sockets(sockets)
        servers.append((server, app))
        return Running(app, app.store, f"http://127.0.0.1:{sockets[0].getsockname()[1]}")

    yield serve
    for server, app in servers:
        server.stop()
        await app.stop(grace=0.1)  # clients already gone never take their close packet
        await server.close_all_connections()


Cluster = Callable[[], Awaitable[tuple["Running", "Running"]]]


@pytest.fixture
def cluster(serve_app: ServeApp, redis_url: str, tmp_path: Path) -> Cluster:
    """Two apps sharing a Redis message queue, a Redis store and one SQLite file: as two
    processes (tests/test_processes.py does it with real run.py processes)."""

    async def start() -> tuple[Running, Running]:
        settings = app_settings(
            session={"store": "redis"},
            redis={"url": redis_url},
            database={"url": f"sqlite:///{tmp_path}/shared.sqlite3"},
            socketio={"message_queue": redis_url, "presence_heartbeat": 0.2},
        )
        return await serve_app(settings), await serve_app(settings)

    return start


def unique(name: str) -> str:
    """A username no other test uses (apps sharing a Redis outlive one test's names)."""
    return f"{name}_{uuid.uuid4().hex[:8]}"


def app_settings(**sections: Any) -> Settings:
    """Settings for a test app: a fixed secret, short heartbeats, its own Redis keys,
    then `sections`.

    Short heartbeats, because a polling client that closes waits for its
    pending GET until the ping timeout (see `leave`).
    """
    defaults = Settings().changed(
        server={"cookie_secret": SECRET},
        # Apps of many tests share one Redis: each (or each cluster) keys its own.
        redis={"prefix": f"t{uuid.uuid4().hex[:12]}:"},
        socketio={"ping_interval": 0.5, "ping_timeout": 1},
        # argon2id at its cheapest (production: 2 passes over 19 MiB); bcrypt, if chosen, too
        accounts={"argon2_time_cost": 1, "argon2_memory_kib": 64, "bcrypt_cost": 4},
    )
    return defaults.changed(**sections)


@pytest.fixture
async def start_app(make_store: StoreFactory, serve_app: ServeApp) -> StartApp:
    """Starts an app over a store of the test's kind; keywords go to [session] and [socketio]."""

    async def start(
        *,
        idle_timeout: float = 60,
        absolute_timeout: float = 3600,
        touch_interval: float = 1,
        secure_cookies: bool = False,
        **socketio_settings: Any,
    ) -> Running:
        settings = app_settings(
            server={"secure_cookies": secure_cookies},
            session={
                "idle_timeout": idle_timeout,
                "absolute_timeout": absolute_timeout,
                "touch_interval": touch_interval,
            },
            socketio=socketio_settings,
        )
        store = make_store(idle_timeout=idle_timeout, absolute_timeout=absolute_timeout)
        return await serve_app(settings, store)

    return start
