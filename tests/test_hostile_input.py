"""Input a client can send is refused in the error shape, never answered with a 5xx.

Found by probing: lone surrogates, deep nesting, Unicode digits, a trailing
newline in a username. Then a property test sends generated JSON to every
route and every socket event.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.apps import PASSWORD, Running, ServeApp, app_settings, leave
from tests.client import Browser, body
from tests.helpers import RecordingClient, call

LONE_SURROGATE = '"\\ud800"'  # JSON text: valid JSON, but no encoding can carry it


@pytest.fixture
async def running(serve_app: ServeApp, tmp_path: Path) -> Running:
    # A generous event rate: generated events must reach their handlers, not the limiter;
    # and relaxed heartbeats, so a loaded machine never drops the tab mid-test.
    sockets = {
        "events_per_second": 1000,
        "event_burst": 1000,
        "ping_interval": 10,
        "ping_timeout": 10,
    }
    return await serve_app(app_settings(session={"store": "memory"}, socketio=sockets))


def assert_refused(response: Any, status: int, code: str) -> None:
    assert response.code == status, (response.code, response.body)
    assert body(response)["error"]["code"] == code
    assert body(response)["error"]["message"]


async def test_lone_surrogates_are_invalid_text_on_both_transports(running: Running) -> None:
    """Before: a 500 with a traceback from every text field, and internal_error acks."""
    alice = await running.member("alice")
    post = body(await alice.request("POST", "/api/posts", {"text": "hello"}))["post"]
    for method, path, template in [
        ("POST", "/api/signup", '{"username": "bob", "password": %s}'),
        ("POST", "/api/signup", '{"username": "bob", "password": "12345678", "display_name": %s}'),
        ("POST", "/api/login", '{"username": %s, "password": "12345678"}'),
        ("POST", "/api/posts", '{"text": %s}'),
        ("POST", f"/api/posts/{post['id']}/comments", '{"text": %s}'),
    ]:
        response = await alice.request(method, path, template % LONE_SURROGATE)
        assert_refused(response, 400, "invalid_text")
    client = await running.socket(alice)
    for event, data in [
        ("chat:send", {"to": "alice", "text": "\ud800"}),
        ("profile:rename", {"display_name": "\udfff x"}),
    ]:
        ack = await call(client, event, data)
        assert ack["ok"] is False and ack["error"]["code"] == "invalid_text", ack
    assert (await call(client, "session:get"))["ok"] is True
    await leave(client)


async def test_deep_nesting_is_invalid_json_even_before_login(running: Running) -> None:
    """Before: 60 KB of '[' raised RecursionError on /api/login: a 500."""
    browser = running.browser()
    assert_refused(await browser.request("POST", "/api/login", "[" * 60_000), 400, "invalid_json")
    nested = '{"a": ' * 20 + "1" + "}" * 20
    assert_refused(await browser.request("POST", "/api/login", nested), 400, "invalid_json")


async def test_limits_are_ascii_digits_only(running: Running) -> None:
    """Before: "²" and "①" passed str.isdigit(), then int() raised: a 500."""
    alice = await running.member("alice")
    for limit in ["²", "①", "٣", "1_0", "+5", "0", "101", "-1"]:
        response = await alice.request("GET", f"/api/feed?limit={quote(limit)}")
        assert_refused(response, 400, "invalid_limit")
    assert (await alice.request("GET", "/api/feed?limit=5")).code == 200


async def test_a_username_is_matched_whole(running: Running) -> None:
    """Before: "alice\\n" signed up: a look-alike of alice shown to her friends."""
    await running.member("alice")
    for name in ["alice\n", "alice\r\n", "ali\u0441e", "al\u0131ce", "Alice", " alice"]:
        response = await running.browser().request(
            "POST", "/api/signup", {"username": name, "password": PASSWORD}
        )
        assert_refused(response, 400, "invalid_username")


# -- generated input, to every route and event ---------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=12,
)
FIELDS = ["username", "password", "display_name", "text", "theme", "ids", "to", "key"]
BODIES = st.one_of(
    JSON,
    st.dictionaries(st.sampled_from(FIELDS), JSON, max_size=4),
    st.text(max_size=40).map(lambda text: {"text": text}),
)
ROUTES = [
    ("PUT", "/api/prefs"),
    ("POST", "/api/signup"),
    ("POST", "/api/login"),
    ("POST", "/api/posts"),
    ("POST", "/api/posts/1/comments"),
    ("POST", "/api/notifications/read"),
    ("POST", "/api/friends/bob"),
    ("DELETE", "/api/friends/bob"),
    ("POST", "/api/logout"),
    ("GET", "/api/feed"),
]
EVENTS = ["session:get", "prefs:set", "profile:rename", "chat:send", "no:such", "disconnect"]


@pytest.fixture
async def tab(running: Running) -> AsyncIterator[tuple[Browser, RecordingClient]]:
    alice = await running.member("alice")
    await running.member("bob")
    client = await running.socket(alice)
    yield alice, client
    await leave(client)


@settings(
    max_examples=200,
    derandomize=True,  # the same examples every run: a failure is reproducible, CI is stable
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(route=st.sampled_from(ROUTES), payload=BODIES, event=st.sampled_from(EVENTS))
async def test_generated_input_never_gets_a_5xx(
    running: Running,
    tab: tuple[Browser, RecordingClient],
    route: tuple[str, str],
    payload: Any,
    event: str,
) -> None:
    alice, client = tab
    method, path = route
    if path == "/api/logout":
        path = "/api/session"  # keep the login: logout has no body to check anyway
        method = "GET"
    # A generated body may well sign up or log in: never as the tab's own browser, whose
    # new session id would end the tab's socket (as it should).
    sender = running.browser() if path in ("/api/signup", "/api/login") else alice
    raw = json.dumps(payload)
    response = await sender.request(method, path, raw if method in ("POST", "PUT") else None)
    assert response.code < 500, (route, raw, response.body)
    if response.code >= 400:
        assert set(body(response)) == {"error"}
        assert set(body(response)["error"]) == {"code", "message"}
    ack = await call(client, event, payload)
    assert "ok" in ack, ack
    if not ack["ok"]:
        assert ack["error"]["code"] != "internal_error", (event, payload, ack)
        assert set(ack["error"]) == {"code", "message"}
    assert client.connected


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/static/no-such-file.js", 404, "not_found"),
        ("/vendor/socket.io.min.js.map.nope", 404, "not_found"),
        ("/static/..%2F..%2Fsettings.ini", 403, "forbidden"),
        ("/socket.io/?EIO=4&transport=polling&sid=<b>guessed</b>", 400, "unknown_connection"),
    ],
)
async def test_static_and_engine_io_errors_have_the_error_shape_and_nosniff(
    running: Running, path: str, status: int, code: str
) -> None:
    """Before: Tornado's HTML error pages, and engine.io echoing the sid as text/plain."""
    response = await running.browser().request("GET", path)
    assert_refused(response, status, code)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert b"guessed" not in response.body


async def test_static_files_are_served_with_nosniff(running: Running) -> None:
    for path in ("/static/app.js", "/vendor/socket.io.min.js"):
        response = await running.browser().request("GET", path)
        assert response.code == 200
        assert response.headers["X-Content-Type-Options"] == "nosniff"


async def _raw_request(writer: asyncio.StreamWriter, head: str, body: bytes = b"") -> None:
    writer.write(head.encode() + b"\r\n" + body)
    await writer.drain()


async def _raw_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 response read off the wire: status, headers (lower-cased), body."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    status_line, *lines = head.decode().split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines if line)
    body = await asyncio.wait_for(reader.readexactly(int(headers["content-length"])), 10)
    return int(status_line.split()[1]), headers, body


def _too_large(status: int, headers: dict[str, str], body: bytes) -> None:
    assert status == 413, (status, body)
    assert json.loads(body)["error"]["code"] == "too_large"
    assert headers["x-content-type-options"] == "nosniff"


async def test_an_oversized_body_gets_413_never_a_reset(running: Running) -> None:
    """Before: past 4 x max_message_size, Tornado's bare 400 and a closed connection."""
    limit = running.app.body_limit
    host, port = running.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        # announced: answered without reaching a handler, and the connection lives on
        head = f"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Length: {limit + 1}\r\n"
        await _raw_request(writer, head, b"x" * (limit + 1))
        _too_large(*await _raw_response(reader))
        await _raw_request(writer, "GET /healthz HTTP/1.1\r\nHost: x\r\n")
        assert (await _raw_response(reader))[0] == 200
        # chunked: found too large while reading
        chunk = b"y" * 65536
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(limit // 65536 + 1))
        head = "POST /api/posts HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        await _raw_request(writer, head, chunks + b"0\r\n\r\n")
        _too_large(*await _raw_response(reader))
    finally:
        writer.close()
    # announced larger than anything worth reading: answered at once, then closed
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        head = f"POST /api/posts HTTP/1.1\r\nHost: x\r\nContent-Length: {10**10}\r\n"
        await _raw_request(writer, head, b"z" * 1_000_000)
        status, headers, body = await _raw_response(reader)
        _too_large(status, headers, body)
        assert headers["connection"] == "close"
        assert await asyncio.wait_for(reader.read(), 10) == b""  # closed, not reset
    finally:
        writer.close()


PAGES = ["/", "/friends", "/messages", "/messages/bob", "/notifications", "/settings"]


async def test_every_html_answer_carries_the_security_headers(running: Running) -> None:
    """Pages, the HTML 404s (unknown path, unknown chat partner) and the login pages."""
    member = await running.member("alice")
    await running.member("bob")
    post = body(await member.request("POST", "/api/posts", {"text": "hi"}))["post"]
    html = {"Accept": "text/html"}
    answers = [
        *[(path, await member.request("GET", path, headers=html)) for path in PAGES],
        ("post", await member.request("GET", f"/posts/{post['id']}", headers=html)),
        ("unknown path", await member.request("GET", "/no/such/page", headers=html)),
        ("unknown partner", await member.request("GET", "/messages/nobody", headers=html)),
        ("login", await running.browser().request("GET", "/login", headers=html)),
        ("signup", await running.browser().request("GET", "/signup", headers=html)),
    ]
    for name, response in answers:
        assert response.code in (200, 404), (name, response.code)
        headers = response.headers
        assert headers["Content-Type"].startswith("text/html"), name
        policy = headers["Content-Security-Policy"]
        for rule in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
            assert rule in policy, (name, rule)
        assert "unsafe-inline" not in policy, name
        assert headers["X-Content-Type-Options"] == "nosniff", name
        assert headers["Referrer-Policy"] == "same-origin", name
        assert b"Traceback" not in response.body, name
    assert sum(response.code == 404 for _, response in answers) == 2
