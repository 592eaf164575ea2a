"""Session expiry as a user meets it: an active login lives until its deadline, the warning
comes in time and once, "stay logged in" renews at once, and an ended session says why.

Time is the store's clock (`SessionStore.clock`), which the app and its socket registry
read too: these tests move it on and run what fell due, instead of waiting.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

import pytest

from chatapp.backends import build_session_store
from tests.apps import Running, ServeApp, app_settings, leave
from tests.client import Browser, body
from tests.helpers import RecordingClient, barrier, call, disconnected, eventually


class FakeClock:
    """Epoch seconds that move only when told."""

    def __init__(self) -> None:
        self.now = 1_900_000_000.0

    def __call__(self) -> float:
        return self.now


ExpiryApp = Callable[..., Awaitable[tuple[Running, FakeClock]]]


@pytest.fixture(params=["memory", "redis"])
def expiry_app(request: pytest.FixtureRequest, serve_app: ServeApp) -> ExpiryApp:
    """An app whose sessions run on a fake clock: in memory, and on Redis (whose server
    keeps its own time for the keys' TTL; the app's clock must decide all the same)."""

    async def start(**session: float) -> tuple[Running, FakeClock]:
        sections: dict[str, dict[str, object]] = {"session": {"store": request.param, **session}}
        if request.param == "redis":
            sections["redis"] = {"url": request.getfixturevalue("redis_url")}
        settings = app_settings(**sections)
        store = build_session_store(settings)
        clock = FakeClock()
        store.clock = clock
        return await serve_app(settings, store), clock

    return start


def at(iso: str) -> float:
    return dt.datetime.fromisoformat(iso).timestamp()


async def advance(running: Running, clock: FakeClock, seconds: float) -> None:
    """Time passes: whatever fell due meanwhile runs."""
    clock.now += seconds
    await running.app.sockets.deadlines.run_due()


async def connected(running: Running, username: str) -> tuple[Browser, RecordingClient]:
    browser = await running.login(username)
    client = await running.socket(browser, events=("session:expiring", "session:ended"))
    return browser, client


async def test_an_active_session_lives_until_exactly_its_absolute_deadline(
    expiry_app: ExpiryApp,
) -> None:
    """Before: renewal had to gain a whole touch interval, which none could near the
    deadline, so a login active every 2 s ended about 10 s early."""
    running, clock = await expiry_app(idle_timeout=20, absolute_timeout=60)
    _, client = await connected(running, "alice")
    deadline = clock.now + 60
    last_expiry = 0.0
    await advance(running, clock, 1)  # events fall between the renewals' steps
    while clock.now + 2 < deadline:
        await advance(running, clock, 2)
        ack = await call(client, "session:get")
        assert ack["ok"] is True, ack
        last_expiry = at(ack["expires_at"])
    assert last_expiry == pytest.approx(deadline, abs=0.01)
    await advance(running, clock, deadline - clock.now)
    await disconnected(client)
    assert client.received["session:ended"] == [{"reason": "expired"}]


async def test_the_warning_comes_two_minutes_before_the_idle_end_and_once(
    expiry_app: ExpiryApp,
) -> None:
    running, clock = await expiry_app(idle_timeout=1800, touch_interval=60)
    browser, client = await connected(running, "alice")
    expires_at = clock.now + 1800
    await advance(running, clock, 1800 - 121)
    await barrier(client)  # an event renews: the end moved, so no warning yet
    expires_at = clock.now + 1800
    await advance(running, clock, 1800 - 121)
    assert client.received["session:expiring"] == []
    await advance(running, clock, 2)
    await eventually(lambda: len(client.received["session:expiring"]) == 1)
    warning = client.received["session:expiring"][0]
    assert at(warning["expires_at"]) == pytest.approx(expires_at, abs=0.01)
    assert warning["extendable"] is True
    for _ in range(3):
        await advance(running, clock, 10)
    assert len(client.received["session:expiring"]) == 1  # once per deadline
    # An HTTP request renews the session: the next warning is for its new end only.
    assert body(await browser.request("GET", "/api/session"))["authenticated"] is True
    await advance(running, clock, 1800 - 121)
    assert len(client.received["session:expiring"]) == 1
    await advance(running, clock, 2)
    await eventually(lambda: len(client.received["session:expiring"]) == 2)
    await advance(running, clock, 121)
    await disconnected(client)
    assert client.received["session:ended"] == [{"reason": "expired"}]


async def test_the_warning_comes_before_the_absolute_deadline_and_says_it_is_final(
    expiry_app: ExpiryApp,
) -> None:
    running, clock = await expiry_app(idle_timeout=1800, absolute_timeout=3600, touch_interval=60)
    _, client = await connected(running, "alice")
    deadline = clock.now + 3600
    while clock.now < deadline - 1800:  # active: the idle end reaches the deadline
        await advance(running, clock, 600)
        await barrier(client)
    assert client.received["session:expiring"] == []
    await advance(running, clock, deadline - 119 - clock.now)
    await eventually(lambda: len(client.received["session:expiring"]) == 1)
    warning = client.received["session:expiring"][0]
    assert at(warning["expires_at"]) == pytest.approx(deadline, abs=0.01)
    assert warning["extendable"] is False
    renewed = await call(client, "session:renew")
    assert renewed["ok"] is True and renewed["extendable"] is False
    assert at(renewed["expires_at"]) == pytest.approx(deadline, abs=0.01)


async def test_stay_logged_in_renews_at_once_whatever_the_touch_interval(
    expiry_app: ExpiryApp,
) -> None:
    running, clock = await expiry_app(idle_timeout=1800, touch_interval=600)
    _, client = await connected(running, "alice")
    first = at((await call(client, "session:get"))["expires_at"])
    await advance(running, clock, 60)
    assert at((await call(client, "session:get"))["expires_at"]) == first  # throttled
    renewed = await call(client, "session:renew")
    assert renewed["ok"] is True and renewed["extendable"] is True
    assert at(renewed["expires_at"]) == pytest.approx(clock.now + 1800, abs=0.01)
    assert at(renewed["deadline"]) > at(renewed["expires_at"])
    await leave(client)


async def test_session_renew_takes_no_payload(expiry_app: ExpiryApp) -> None:
    running, _ = await expiry_app()
    _, client = await connected(running, "alice")
    refused = await call(client, "session:renew", {"for": "ever"})
    assert refused["ok"] is False and refused["error"]["code"] == "unknown_field"
    await leave(client)


async def test_on_the_real_clock_a_quiet_socket_is_warned_then_ended_on_time(
    serve_app: ServeApp,
) -> None:
    """The deadlines' own timer, with no periodic check to lean on (90 s away)."""
    settings = app_settings(
        session={"store": "memory", "idle_timeout": 1.0, "touch_interval": 0.1},
        socketio={"session_check_interval": 90},
    )
    running = await serve_app(settings)
    _, client = await connected(running, "alice")
    await eventually(lambda: len(client.received["session:expiring"]) == 1, limit=1.0)
    await disconnected(client, limit=3.0)
    assert client.received["session:ended"] == [{"reason": "expired"}]


# -- the login page after an ending -----------------------------------------------------


async def login_page(running: Running, query: str, browser: Browser | None = None) -> str:
    page = await (browser or running.browser()).request("GET", f"/login{query}")
    assert page.code == 200, page.code
    return page.body.decode()


@pytest.mark.parametrize(
    ("reason", "words"),
    [
        ("expired", "Your session expired"),
        ("revoked", "signed out from another device"),
        ("password_changed", "Your password was changed"),
    ],
)
async def test_the_login_page_says_why_the_session_ended(
    serve_app: ServeApp, reason: str, words: str
) -> None:
    running = await serve_app(app_settings(session={"store": "memory"}))
    assert words in await login_page(running, f"?ended={reason}")
    assert 'id="ended-notice"' not in await login_page(running, "?ended=<b>made-up</b>")


@pytest.mark.parametrize(
    ("asked", "kept"),
    [
        ("/friends", "/friends"),
        ("/messages/bob?x=1", "/messages/bob?x=1"),
        ("//evil.example/", "/"),
        ("/\\evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("/a\tb", "/"),
    ],
)
async def test_login_goes_on_to_next_on_this_site_only(
    serve_app: ServeApp, asked: str, kept: str
) -> None:
    running = await serve_app(app_settings(session={"store": "memory"}))
    page = await login_page(running, "?" + urlencode({"next": asked}))
    assert f'data-next="{html.escape(kept)}"' in page
    logged_in = await running.login("alice")
    response = await logged_in.request("GET", "/login?" + urlencode({"next": asked}))
    assert response.code == 302 and response.headers["Location"] == kept
