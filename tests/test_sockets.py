"""Socket.IO sharing the live session with HTTP, over both transports, for every store."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace

import aiohttp
import pytest
import socketio
from tornado.web import create_signed_value

from chatapp.sessions.cookies import COOKIE_NAME
from tests.apps import SECRET, Running, ServeApp, StartApp, app_settings, leave
from tests.client import body
from tests.helpers import arrived, barrier, call, disconnected, eventually
from tests.raw_engine_io import cookie_header, engine_io_url, frames_until_closed, raw_socket

TRANSPORTS = ["websocket", "polling"]


async def _count_is(running: Running, user_id: str, count: int) -> bool:
    return await running.app.sockets.socket_count(user_id) == count


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_only_a_logged_in_session_may_connect(start_app: StartApp, transport: str) -> None:
    running = await start_app()
    anonymous = running.browser()
    await anonymous.request("PUT", "/api/prefs", {"theme": "dark"})  # a session, but no user
    forged = running.browser()
    forged.cookies[COOKIE_NAME] = create_signed_value("wrong" * 10, COOKIE_NAME, "A" * 43).decode()
    unknown = running.browser()
    unknown.cookies[COOKIE_NAME] = create_signed_value(SECRET, COOKIE_NAME, "A" * 43).decode()
    logged_out = await running.login("alice")
    cookie = logged_out.cookies[COOKIE_NAME]
    await logged_out.request("POST", "/api/logout")
    logged_out.cookies[COOKIE_NAME] = cookie  # replayed after logout
    for browser in (None, anonymous, forged, unknown, logged_out):
        with pytest.raises(socketio.exceptions.ConnectionError, match="unauthorized"):
            await running.socket(browser, transport)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_an_expired_session_may_not_connect(start_app: StartApp, transport: str) -> None:
    running = await start_app(idle_timeout=0.5, touch_interval=0.1)
    browser = await running.login("alice")
    await asyncio.sleep(0.7)
    with pytest.raises(socketio.exceptions.ConnectionError, match="unauthorized"):
        await running.socket(browser, transport)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_foreign_origin_is_refused_and_the_own_origin_accepted(
    start_app: StartApp, transport: str
) -> None:
    running = await start_app()
    browser = await running.login("alice")
    with pytest.raises(socketio.exceptions.ConnectionError):
        await running.socket(browser, transport, origin="http://evil.example")
    own = await running.socket(browser, transport, origin=running.url)
    assert (await call(own, "session:get"))["ok"] is True
    await leave(own)


async def test_an_origin_differing_only_by_scheme_gets_a_403_at_the_handshake(
    start_app: StartApp,
) -> None:
    """Before: https://host:port against an http server got a 101 and then silence."""
    running = await start_app()
    browser = await running.login("alice")
    headers = {**cookie_header(browser), "Origin": running.url.replace("http://", "https://")}
    url = engine_io_url(running)
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(url, headers=headers)
        assert refused.value.status == 403
        polling = running.url + "/socket.io/?EIO=4&transport=polling"
        async with http.get(polling, headers=headers) as response:
            assert response.status == 403
            assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_a_browsers_offer_of_permessage_deflate_is_declined(serve_app: ServeApp) -> None:
    """Accepted, it cost about 120 kB of server memory per idle socket (docs/PERFORMANCE.md)."""
    running = await serve_app(app_settings(session={"store": "memory"}))
    browser = await running.login("alice")
    headers = cookie_header(browser)
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(engine_io_url(running), headers=headers, compress=15) as ws,
    ):
        assert "Sec-WebSocket-Extensions" not in ws._response.headers
        assert ws.compress == 0
        assert (await ws.receive_str(timeout=5)).startswith("0")  # and it works
        await ws.send_str("40")
        while (answer := await ws.receive_str(timeout=5)).startswith("42"):
            pass  # an event queued before the connect answer
        assert answer.startswith("40")


async def test_a_refused_connect_closes_its_engine_io_connection(serve_app: ServeApp) -> None:
    """Before: the Engine.IO connection stayed open (300 of them held 56 MB for a minute)."""
    running = await serve_app(app_settings(session={"store": "memory"}))
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(engine_io_url(running)) as ws,  # no session cookie
    ):
        assert (await ws.receive_str(timeout=5)).startswith("0")
        await ws.send_str("40")
        refusal = await ws.receive_str(timeout=5)
        assert refusal.startswith("44") and "unauthorized" in refusal
        closing = await ws.receive(timeout=5)
        if closing.type == aiohttp.WSMsgType.TEXT:
            assert closing.data == "1"  # Engine.IO's close packet, then the close itself
            closing = await ws.receive(timeout=5)
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    await eventually(lambda: not running.app.sio.connections_from)


async def test_a_refusal_over_polling_is_fetched_before_the_connection_closes(
    serve_app: ServeApp,
) -> None:
    """As a browser polls: the connect POST answered first, the GET for the refusal sent only
    then. Before, the connection was closed by then (the GET got 400, the browser said
    "xhr poll error" and never learnt why)."""
    running = await serve_app(app_settings(session={"store": "memory"}))
    polling = running.url + "/socket.io/?EIO=4&transport=polling"
    async with aiohttp.ClientSession() as http:
        async with http.get(polling) as opened:
            sid = json.loads((await opened.text())[1:])["sid"]
        async with http.post(f"{polling}&sid={sid}", data="40") as posted:
            assert posted.status == 200
        await asyncio.sleep(0.2)  # the server has refused by now
        async with http.get(f"{polling}&sid={sid}") as fetched:
            assert fetched.status == 200
            refusal = await fetched.text()
        assert refusal.startswith("44") and "unauthorized" in refusal
    await eventually(lambda: not running.app.sio.connections_from, limit=5)


async def test_open_connections_per_address_are_capped(serve_app: ServeApp) -> None:
    running = await serve_app(
        app_settings(session={"store": "memory"}, socketio={"max_connections_per_address": 3})
    )
    async with aiohttp.ClientSession() as http:
        held = [await http.ws_connect(engine_io_url(running)) for _ in range(3)]
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(engine_io_url(running))
        assert refused.value.status == 429
        polling = running.url + "/socket.io/?EIO=4&transport=polling"
        async with http.get(polling) as response:
            assert response.status == 429
            assert (await response.json())["error"]["code"] == "too_many_connections"
            assert response.headers["X-Content-Type-Options"] == "nosniff"
        await held.pop().close()
        await eventually(lambda: sum(running.app.sio.connections_from.values()) == 2)
        held.append(await http.ws_connect(engine_io_url(running)))  # room again
        for ws in held:
            await ws.close()


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_configured_origins_are_allowed_besides_the_own(
    start_app: StartApp, transport: str
) -> None:
    running = await start_app(allowed_origins=("https://app.example",))
    browser = await running.login("alice")
    for origin in ("https://app.example", running.url):
        client = await running.socket(browser, transport, origin=origin)
        await leave(client)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await running.socket(browser, transport, origin="https://other.example")


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_socket_and_http_see_each_others_writes_at_once(
    start_app: StartApp, transport: str
) -> None:
    running = await start_app()
    browser = await running.login("alice")
    client = await running.socket(browser, transport)
    ack = await call(client, "session:get")
    alice = await running.user_id("alice")
    assert ack["ok"] is True
    assert ack["user"] == {"id": alice, "username": "alice", "display_name": "alice"}
    assert ack["prefs"] == {"theme": "light"}
    await browser.request("PUT", "/api/prefs", {"theme": "dark"})
    assert (await call(client, "session:get"))["prefs"] == {"theme": "dark"}
    assert await call(client, "prefs:set", {"theme": "light"}) == {
        "ok": True,
        "prefs": {"theme": "light"},
    }
    assert body(await browser.request("GET", "/api/session"))["prefs"] == {"theme": "light"}
    await leave(client)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_logout_over_http_ends_exactly_that_sessions_sockets(
    start_app: StartApp, transport: str
) -> None:
    running = await start_app()
    laptop, phone = await running.login("alice"), await running.login("alice")
    tabs = [await running.socket(laptop, transport, events=("session:ended",)) for _ in range(2)]
    other = await running.socket(phone, transport, events=("session:ended",))
    started = time.monotonic()
    assert (await laptop.request("POST", "/api/logout")).code == 204
    for tab in tabs:
        await disconnected(tab, limit=1.0)
        assert tab.received["session:ended"] == [{"reason": "logout"}]
    assert time.monotonic() - started < 1.0
    assert other.connected and other.received["session:ended"] == []
    assert (await call(other, "session:get"))["ok"] is True
    await leave(other)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_auth_logout_ends_the_http_session_and_every_socket_of_it(
    start_app: StartApp, transport: str
) -> None:
    running = await start_app()
    browser = await running.login("alice")
    sender = await running.socket(browser, transport, events=("session:ended",))
    sibling = await running.socket(browser, transport, events=("session:ended",))
    assert await call(sender, "auth:logout") == {"ok": True}
    assert body(await browser.request("GET", "/api/session"))["authenticated"] is False
    for client in (sender, sibling):
        await disconnected(client, limit=1.0)
        assert client.received["session:ended"] == [{"reason": "logout"}]


async def test_logging_in_again_ends_the_sockets_of_the_old_id(start_app: StartApp) -> None:
    running = await start_app()
    browser = await running.login("alice")
    client = await running.socket(browser, events=("session:ended",))
    await browser.request("POST", "/test/login", {"username": "alice"})
    await eventually(lambda: not client.connected)
    assert client.received["session:ended"] == [{"reason": "regenerated"}]


async def test_socket_activity_keeps_the_session_alive(start_app: StartApp) -> None:
    running = await start_app(idle_timeout=1.0, touch_interval=0.2)
    chatty, quiet = await running.login("alice"), await running.login("bob")
    client = await running.socket(chatty)
    await running.socket(quiet)
    for _ in range(6):  # 1.8 s of socket-only activity: longer than the idle timeout
        await asyncio.sleep(0.3)
        assert (await call(client, "session:get"))["ok"] is True
    assert body(await chatty.request("GET", "/api/session"))["authenticated"] is True
    assert body(await quiet.request("GET", "/api/session"))["authenticated"] is False
    await leave(client)


async def test_a_quiet_socket_of_an_expired_session_is_ended(start_app: StartApp) -> None:
    running = await start_app(idle_timeout=0.6, touch_interval=0.1, session_check_interval=0.2)
    client = await running.socket(await running.login("alice"), events=("session:ended",))
    await disconnected(client, limit=3.0)
    assert client.received["session:ended"] == [{"reason": "expired"}]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_fifty_concurrent_socket_and_http_writes_all_survive(
    start_app: StartApp, transport: str
) -> None:
    running = await start_app(event_burst=100)
    browser = await running.login("alice")
    client = await running.socket(browser, transport)

    async def socket_writes() -> None:
        # In waves of 10: over polling, python-engineio refuses a POST of more than
        # 16 packets, and the client batches every event queued at once into one.
        for wave in range(0, 25, 10):
            keys = range(wave, min(wave + 10, 25))
            await asyncio.gather(
                *(call(client, "test:set", {"key": f"s{i}", "value": i}) for i in keys)
            )

    http_writes = [
        browser.request("POST", "/test/set", {"key": f"h{i}", "value": i}) for i in range(25)
    ]
    await asyncio.gather(socket_writes(), *http_writes)
    session_id = running.app.cookies.session_id(browser.cookies[COOKIE_NAME])
    data = (await running.store.load(session_id)).data  # type: ignore[arg-type, union-attr]
    assert all(data[f"s{i}"] == i and data[f"h{i}"] == i for i in range(25))
    await leave(client)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_bad_events_get_a_coded_refusal_and_the_socket_stays(
    start_app: StartApp, transport: str
) -> None:
    running = await start_app()
    client = await running.socket(await running.login("alice"), transport)
    for event, data, code in [
        ("no:such", {}, "unknown_event"),
        ("prefs:set", "dark", "invalid_payload"),
        ("prefs:set", [1, 2], "invalid_payload"),
        ("prefs:set", {"theme": 5}, "invalid_theme"),
        ("prefs:set", {"theme": "dark", "font": "big"}, "unknown_field"),
        ("session:get", {"x": 1}, "unknown_field"),
    ]:
        ack = await call(client, event, data)
        assert ack["ok"] is False and ack["error"]["code"] == code, (event, data, ack)
        assert ack["error"]["message"]
    assert (await call(client, "session:get"))["ok"] is True
    assert client.connected
    await leave(client)


async def test_events_beyond_the_rate_are_refused(start_app: StartApp) -> None:
    running = await start_app(events_per_second=1, event_burst=5)
    client = await running.socket(await running.login("alice"))
    acks = await asyncio.gather(*(call(client, "session:get") for _ in range(8)))
    refused = [a for a in acks if not a["ok"]]
    assert len(refused) >= 2
    assert {a["error"]["code"] for a in refused} == {"rate_limited"}
    assert client.connected
    await leave(client)


async def test_a_user_may_hold_only_so_many_sockets(start_app: StartApp) -> None:
    running = await start_app(max_sockets_per_user=2)
    browser = await running.login("alice")
    first, second = await running.socket(browser), await running.socket(browser)
    with pytest.raises(socketio.exceptions.ConnectionError, match="too_many_sockets"):
        await running.socket(browser)
    await leave(first)
    alice = await running.user_id("alice")
    await eventually(lambda: _count_is(running, alice, 1))
    third = await running.socket(browser)
    for client in (second, third):
        await leave(client)


async def test_presence_goes_to_friends_on_the_first_socket_and_the_last(
    start_app: StartApp,
) -> None:
    running = await start_app()
    bob_browser, alice_browser = await running.login("bob"), await running.login("alice")
    alice, bob_id = await running.user_id("alice"), await running.user_id("bob")

    async def friends_of(user_id: str) -> list[str]:
        return {alice: [bob_id], bob_id: [alice]}.get(user_id, [])

    running.app.sockets.directory = replace(running.app.sockets.directory, audience=friends_of)
    bob = await running.socket(bob_browser, events=("presence",))
    tab1 = await running.socket(alice_browser)
    tab2 = await running.socket(alice_browser)
    await eventually(lambda: len(bob.received["presence"]) == 1)
    assert bob.received["presence"][0]["online"] is True
    assert await running.app.sockets.is_online(alice)
    await leave(tab1)
    await eventually(lambda: _count_is(running, alice, 1))
    await barrier(bob)
    assert len(bob.received["presence"]) == 1  # one tab left: still online  # type: ignore[attr-defined]
    await leave(tab2)
    await eventually(lambda: len(bob.received["presence"]) == 2)
    assert bob.received["presence"][1] == {
        "user": {"id": alice, "username": "alice", "display_name": "alice"},
        "online": False,
    }
    assert not await running.app.sockets.is_online(alice)
    await leave(bob)


async def test_a_push_reaches_every_tab_of_the_user_only(start_app: StartApp) -> None:
    running = await start_app()
    alice = await running.login("alice")
    tabs = [await running.socket(alice, events=("notification",)) for _ in range(2)]
    bob = await running.socket(await running.login("bob"), events=("notification",))
    await running.app.sockets.push_to_user(
        await running.user_id("alice"), "notification", {"kind": "post"}
    )
    for tab in tabs:
        await arrived(tab, "notification", [{"kind": "post"}])
    await barrier(bob)
    assert bob.received["notification"] == []


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_an_oversized_field_is_refused_and_its_socket_lives(
    start_app: StartApp, transport: str
) -> None:
    """100 KB fit in a message (1 MiB, python-socketio's and Node's cap); fields have limits."""
    running = await start_app()
    client = await running.socket(await running.login("alice"), transport)
    for event, data, code in [
        ("prefs:set", {"theme": "x" * 100_000}, "invalid_theme"),
        ("chat:send", {"to": "bob", "text": "x" * 100_000}, "invalid_text"),
        ("profile:rename", {"display_name": "x" * 100_000}, "invalid_display_name"),
    ]:
        ack = await call(client, event, data)
        assert ack["ok"] is False and ack["error"]["code"] == code
    assert client.connected and (await call(client, "session:get"))["ok"] is True
    await leave(client)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_message_over_the_transport_cap_ends_only_its_socket(
    start_app: StartApp, transport: str
) -> None:
    running = await start_app()
    browser = await running.login("alice")
    sender = await running.socket(browser, transport)
    bystander = await running.socket(browser, transport)
    limit = running.app.config.socketio.max_message_size
    await sender.emit("prefs:set", {"theme": "x" * (limit + 1)})
    await eventually(lambda: not sender.connected)
    assert (await call(bystander, "session:get"))["ok"] is True
    await leave(bystander)


async def test_an_oversized_http_body_is_a_413_in_the_error_shape(start_app: StartApp) -> None:
    running = await start_app()
    browser = running.browser()
    limit = running.app.config.server.max_message_size
    response = await browser.request("PUT", "/api/prefs", '{"theme": "' + "x" * limit + '"}')
    assert response.code == 413
    assert body(response)["error"]["code"] == "too_large"


MALFORMED_FRAMES: list[list[str | bytes]] = [
    ["garbage"],
    ["40", "42not json"],
    ["40", '42["prefs:set"'],
    ["40", "42[1,2,3]"],
    ["40", '42{"theme":"dark"}'],
    ["40", "4"],
    ["40", '451-["prefs:set",{"_placeholder":true,"num":7}]'],
    ["40", "49"],
    ["99", "40/nope,"],
    ["40", b"\x00\xff\xfe"],
]
#: Frames engine.io accepts (a "4" message) that Socket.IO cannot take apart.
SOCKETIO_FRAMES = [
    '42["prefs:set",' + "[" * 100_000 + "]" * 100_000 + "]",
    '42["prefs:set"',
    "42not json",
]


async def test_malformed_packets_never_take_the_server_down(
    start_app: StartApp, caplog: pytest.LogCaptureFixture
) -> None:
    """Each bad input, on a connection of its own, logs at most one line (the access
    log's line for the connection aside) and never a traceback; others are unaffected."""
    running = await start_app()
    browser = await running.login("alice")
    bystander = await running.socket(browser)
    url, headers = engine_io_url(running), cookie_header(browser)
    limit = running.app.config.server.max_message_size
    oversized: list[str | bytes] = ["40", '42["prefs:set","' + "x" * limit + '"]']
    async with aiohttp.ClientSession() as http:
        for frames in [*MALFORMED_FRAMES, oversized]:
            caplog.clear()
            async with http.ws_connect(url, headers=headers, max_msg_size=0) as raw:
                await asyncio.wait_for(raw.receive(), timeout=5)  # engine.io's open packet
                for frame in frames:
                    if isinstance(frame, bytes):
                        await raw.send_bytes(frame)
                    else:
                        await raw.send_str(frame)
                await asyncio.sleep(0.05)
            lines = [r for r in caplog.records if r.name != "tornado.access"]
            assert len(lines) <= 1, (frames[-1][:40], [r.getMessage() for r in lines])
            assert not [r for r in lines if r.exc_info], frames
    assert (await call(bystander, "session:get"))["ok"] is True
    assert (await running.browser().request("GET", "/healthz")).code == 200
    await leave(bystander)


async def test_oversized_and_garbage_polling_bodies_are_refused_and_harm_no_one(
    start_app: StartApp, caplog: pytest.LogCaptureFixture
) -> None:
    running = await start_app()
    browser = await running.login("alice")
    bystander = await running.socket(browser)
    base = running.url + "/socket.io/?EIO=4&transport=polling"
    limit = running.app.config.server.max_message_size
    bodies = ["4" + "x" * (4 * limit), "garbage", "", "9", "\x1e\x1e", "b!!!", "40\x1e42[1"]
    async with aiohttp.ClientSession(headers=cookie_header(browser)) as http:
        for payload in bodies:
            async with http.get(base) as opened:
                sid = json.loads((await opened.text())[1:])["sid"]
            caplog.clear()
            async with http.post(f"{base}&sid={sid}", data=payload) as answered:
                assert answered.status < 500, payload[:20]
            lines = [r for r in caplog.records if r.name != "tornado.access"]
            assert len(lines) <= 1, (payload[:20], [r.getMessage() for r in lines])
            assert not [r for r in lines if r.exc_info], payload[:20]
    assert (await call(bystander, "session:get"))["ok"] is True
    await leave(bystander)


async def test_a_malformed_socketio_frame_costs_its_connection_and_one_line(
    serve_app: ServeApp, caplog: pytest.LogCaptureFixture
) -> None:
    """Before: IndexError or RecursionError inside python-socketio, a traceback per frame.
    (Decoding happens before any store is asked: one store is enough.) Heartbeats as in
    production, so that only the server's close, not a ping timeout, ends it in time."""
    heartbeats = {"ping_interval": 25, "ping_timeout": 20}
    running = await serve_app(app_settings(session={"store": "memory"}, socketio=heartbeats))
    browser = await running.login("alice")
    bystander = await running.socket(browser)
    url, headers = engine_io_url(running), cookie_header(browser)
    async with aiohttp.ClientSession() as http:
        for frame in SOCKETIO_FRAMES:
            async with http.ws_connect(url, headers=headers, max_msg_size=0) as raw:
                await asyncio.wait_for(raw.receive(), timeout=5)  # engine.io's open packet
                await raw.send_str("40")
                assert (await asyncio.wait_for(raw.receive(), timeout=5)).data.startswith("40")
                await raw.send_str(frame)
                closed = False
                while not closed:  # pings and events until the server closes this connection
                    message = await asyncio.wait_for(raw.receive(), timeout=5)
                    closed = message.type != aiohttp.WSMsgType.TEXT
    lines = [r for r in caplog.records if "malformed Socket.IO frame" in r.getMessage()]
    assert len(lines) == len(SOCKETIO_FRAMES)
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    assert (await call(bystander, "session:get"))["ok"] is True
    await leave(bystander)


async def test_an_event_without_a_name_is_refused_and_the_socket_stays(
    start_app: StartApp,
) -> None:
    """`421[]` (an event asking for an ack, with no name): python-socketio's own handling
    raised on it; now an `unknown_event` ack on both transports, and the socket goes on."""
    running = await start_app()
    browser = await running.login("alice")
    url, headers = engine_io_url(running), cookie_header(browser)
    async with aiohttp.ClientSession(headers=headers) as http:

        async def over_websocket(sent: str) -> list[str]:
            await raw.send_str(sent)
            while True:  # past pings and pushed events
                got = (await asyncio.wait_for(raw.receive(), timeout=5)).data
                if got[:2] in ("40", "43"):
                    break
            return [got]

        async def over_polling(sent: str) -> list[str]:
            async with http.post(polling, data=sent) as answered:
                assert answered.status == 200
            packets: list[str] = []
            while not any(p[:2] in ("40", "43") for p in packets):  # past pushed events
                async with http.get(polling) as received:
                    packets += (await received.text()).split("\x1e")
            return packets

        async with http.ws_connect(url) as raw:
            await asyncio.wait_for(raw.receive(), timeout=5)  # engine.io's open packet
            await ask_nameless_then_session(over_websocket)
        polling = running.url + "/socket.io/?EIO=4&transport=polling"
        async with http.get(polling) as opened:
            polling += "&sid=" + json.loads((await opened.text())[1:])["sid"]
        await ask_nameless_then_session(over_polling)


async def ask_nameless_then_session(exchange: Callable[[str], Awaitable[list[str]]]) -> None:
    assert any(p.startswith("40") for p in await exchange("40"))
    (refused,) = [json.loads(p[3:]) for p in await exchange("421[]") if p.startswith("431")]
    assert refused == [
        {"ok": False, "error": {"code": "unknown_event", "message": "unknown event"}}
    ]
    (answered,) = [
        json.loads(p[3:]) for p in await exchange('422["session:get"]') if p[:3] == "432"
    ]
    assert answered[0]["ok"] is True


async def test_a_shutdown_closes_transports_so_that_clients_come_back(
    start_app: StartApp,
) -> None:
    """Before: the server said goodbye (a Socket.IO DISCONNECT, "41"), which the browser
    client never retries; an engine.io close ("1", then the transport closes) it retries.
    tests/test_browser.py restarts a real run.py under an open page."""
    running = await start_app()
    browser = await running.login("alice")
    async with raw_socket(running, browser) as raw:
        await running.app.sockets.close_all(within=1.0)
        frames = await frames_until_closed(raw)
    # Pings ("2") and events ("42[...]") aside, the last word is engine.io's close.
    assert [frame for frame in frames if frame != "2" and not frame.startswith("42")] == ["1"]
    assert await running.app.sockets.socket_count(await running.user_id("alice")) == 0
