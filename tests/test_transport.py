"""chatapp's own WebSocket delivery path (chatapp.transport) against the official clients and
the protocol's edge cases: the handshake, heartbeats both ways, binary, acks, reconnect, the
upgrade from polling (which stays on python-engineio's path), and a reader too slow to keep.
The browser's socket.io-client takes this path in every browser test."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from socket import IPPROTO_TCP, SO_RCVBUF, SOL_SOCKET, TCP_NODELAY
from typing import Any

import aiohttp
import pytest

import chatapp.transport.socket as transport_socket
from chatapp.transport import WebSocketSocket
from chatapp.transport.outbox import Outbox
from tests.apps import Running, ServeApp, app_settings, leave
from tests.helpers import RecordingClient, call, disconnected, eventually
from tests.raw_engine_io import (
    RawConnection,
    cookie_header,
    engine_io_url,
    frames_until_closed,
    raw_socket,
)


@pytest.fixture
async def running(serve_app: ServeApp) -> Running:
    """One app on the default kind of store; ping every 0.5 s, a pong due within 1 s."""
    return await serve_app(app_settings(session={"store": "memory"}))


def engine_sockets(running: Running) -> list[Any]:
    return list(running.app.sio.eio.sockets.values())


async def test_a_websocket_first_client_gets_the_own_path_and_everything_works(
    running: Running,
) -> None:
    client = await running.socket(await running.login("alice"), events=("notification",))
    (socket,) = engine_sockets(running)
    # Nagle off: a push never waits for the ACK of the one before it.
    assert socket.transport._sock.getsockopt(IPPROTO_TCP, TCP_NODELAY)
    assert isinstance(socket, WebSocketSocket)
    assert client.transport() == "websocket"
    ack = await call(client, "session:get")
    assert ack["ok"] is True and ack["user"]["username"] == "alice"
    user_id = await running.user_id("alice")
    note = {"id": "1", "kind": "post", "text": "é ✓ \U0001f600 " + "x" * 70_000}  # 64 kB+ frame
    await running.app.sockets.push_to_user(user_id, "notification", note)
    await eventually(lambda: client.received["notification"] == [note])
    await leave(client)
    await eventually(lambda: not running.app.sio.eio.sockets)
    assert await running.app.sockets.socket_count(user_id) == 0


async def test_heartbeats_keep_a_quiet_client_and_drop_a_silent_one(running: Running) -> None:
    """The official client answers each PING: still there after four ping intervals. A
    raw client that never answers is closed once `ping_timeout` has passed."""
    browser = await running.login("alice")
    client = await running.socket(browser)
    await asyncio.sleep(2.0)
    assert client.connected and (await call(client, "session:get"))["ok"] is True
    url, headers = engine_io_url(running), cookie_header(browser)
    async with aiohttp.ClientSession() as http:
        raw = await http.ws_connect(url, headers=headers, autoping=False)
        opened = json.loads((await raw.receive(timeout=5)).data[1:])
        assert opened["pingInterval"] == 500 and opened["pingTimeout"] == 1000
        assert opened["upgrades"] == []
        await raw.send_str("40")
        assert (await raw.receive(timeout=5)).data.startswith("40")
        while (await raw.receive(timeout=2)).data != "2":  # events aside: a PING, unanswered
            pass
        while (message := await raw.receive(timeout=3)).type == aiohttp.WSMsgType.TEXT:
            assert message.data in ("1", "2")  # a CLOSE may come before the TCP ends
        assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        await raw.close()
    assert client.connected  # the other socket never noticed
    await leave(client)


async def test_binary_goes_both_ways_and_acks_come_back(running: Running) -> None:
    received: list[Any] = []

    async def echo(sid: str, data: Any) -> Any:
        return {"ok": True, "echo": data}

    running.app.sio.on("test:echo", echo)
    client = await running.socket(await running.login("alice"))
    client.on("bytes", received.append)
    blob = bytes(range(256)) * 10
    ack = await client.call("test:echo", {"blob": blob, "text": "t"}, timeout=5)
    assert ack == {"ok": True, "echo": {"blob": blob, "text": "t"}}
    user_id = await running.user_id("alice")
    await running.app.sockets.push_to_user(user_id, "bytes", {"b": blob})
    await eventually(lambda: received == [{"b": blob}])
    await leave(client)


async def test_a_client_comes_back_after_its_connection_drops(running: Running) -> None:
    browser = await running.login("alice")
    client = RecordingClient(
        running.url,
        cookies={running.app.cookies.name: browser.cookies[running.app.cookies.name]},
        reconnection=True,
        reconnection_delay=0.1,
        reconnection_delay_max=0.2,
    )
    await client.connect(running.url, transports=["websocket"], wait_timeout=5)
    first = client.get_sid()
    for socket in engine_sockets(running):  # the network drops the connection
        socket.transport.abort()
    await eventually(lambda: client.connected and client.get_sid() != first, limit=5)
    assert (await call(client, "session:get"))["ok"] is True
    assert isinstance(engine_sockets(running)[0], WebSocketSocket)
    await client.disconnect()


async def test_a_polling_client_that_upgrades_keeps_python_engineios_path(
    running: Running,
) -> None:
    browser = await running.login("alice")
    client = RecordingClient(
        running.url,
        cookies={running.app.cookies.name: browser.cookies[running.app.cookies.name]},
        events=("notification",),
    )
    await client.connect(running.url, transports=["polling", "websocket"], wait_timeout=5)
    await eventually(lambda: client.transport() == "websocket")
    (socket,) = engine_sockets(running)
    assert not isinstance(socket, WebSocketSocket) and socket.upgraded
    user_id = await running.user_id("alice")
    await running.app.sockets.push_to_user(user_id, "notification", {"id": "7"})
    await eventually(lambda: client.received["notification"] == [{"id": "7"}])
    assert (await call(client, "session:get"))["ok"] is True
    await client.disconnect()


async def test_logout_ends_every_socket_of_the_session_on_the_own_path(running: Running) -> None:
    browser = await running.login("alice")
    tabs = [await running.socket(browser, events=("session:ended",)) for _ in range(3)]
    other = await running.socket(await running.login("alice"), events=("session:ended",))
    assert (await browser.request("POST", "/api/logout")).code == 204
    for tab in tabs:
        await disconnected(tab)
        assert tab.received["session:ended"] == [{"reason": "logout"}]
    assert other.connected and other.received["session:ended"] == []
    await leave(other)


async def test_a_reader_too_slow_is_cut_off_and_the_others_keep_theirs(
    serve_app: ServeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client that reads nothing while pushes pile up: once what waits for it passes
    the bound, its connection ends; nothing is buffered without end, and a client that
    reads keeps its connection. (Heartbeats of 5 s: the reading client shares this loop.)"""
    monkeypatch.setattr(transport_socket, "MAX_PENDING_BYTES", 1024 * 1024)
    settings = app_settings(
        session={"store": "memory"}, socketio={"ping_interval": 5, "ping_timeout": 5}
    )
    running = await serve_app(settings)
    browser = await running.login("alice")
    reader = await running.socket(browser, events=("notification",))
    host, port = running.url.removeprefix("http://").split(":")
    _, stuck_writer = await asyncio.open_connection(host, int(port), limit=1024)
    stuck_writer.get_extra_info("socket").setsockopt(SOL_SOCKET, SO_RCVBUF, 4096)
    cookie = cookie_header(browser)["Cookie"]
    stuck_writer.write(
        (
            "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
            f"Host: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            f"Cookie: {cookie}\r\n\r\n"
        ).encode()
    )
    stuck_writer.write(_masked_text("40"))  # join the namespace, then never read again
    await eventually(lambda: len(engine_sockets(running)) == 2)
    user_id = await running.user_id("alice")
    payload = {"id": "1", "text": "x" * 100_000}
    for n in range(1, 201):  # 20 MB, past the kernel's buffers and the bound; the reader
        await running.app.sockets.push_to_user(user_id, "notification", payload)
        await eventually(_has(reader, n))  # keeps up
        if len(engine_sockets(running)) == 1:
            break
    assert len(engine_sockets(running)) == 1, "the stuck reader was never cut off"
    assert reader.connected
    stuck_writer.close()
    await leave(reader)


def _has(client: RecordingClient, count: int) -> Callable[[], bool]:
    return lambda: len(client.received["notification"]) == count


def _masked_text(text: str) -> bytes:
    """A client's WebSocket text frame (clients must mask theirs)."""
    data = text.encode()
    mask = b"\x01\x02\x03\x04"
    masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(data))
    return bytes([0x81, 0x80 | len(data)]) + mask + masked


async def test_a_raw_engine_io_client_sees_the_protocol(running: Running) -> None:
    """Packets as the protocol has them: CONNECT answered, a client PING answered with
    a PONG carrying its data, a client CLOSE ends the socket at once."""
    browser = await running.login("alice")
    async with raw_socket(running, browser) as raw:
        await raw.send_str("2probe")
        await raw.send_str('421["session:get"]')
        answers = [(await raw.receive(timeout=5)).data for _ in range(4)]
        answers = [data for data in answers if data != "2" and not data.startswith("42")]
        assert answers[0] == "3probe" and answers[1].startswith("431[")
        assert json.loads(answers[1][3:])[0]["ok"] is True
        await raw.send_str("1")
        await eventually(lambda: not running.app.sio.eio.sockets)


async def test_an_idle_socket_holds_no_task_of_its_own(running: Running) -> None:
    """Once connected, a socket runs no task at all: none of python-engineio's writer,
    heartbeat or handler tasks, nor Tornado's request and frame reader. The clients live
    in this loop too: their tasks (AsyncClient's, and the queue waits of its writer) aside."""
    clients = [await running.socket(await running.login(f"u{n}")) for n in range(3)]
    await asyncio.sleep(0.7)  # past a heartbeat
    names = [task.get_coro().__qualname__ for task in asyncio.all_tasks()]  # type: ignore[union-attr]
    clients_own = ("AsyncClient", "Client", "Queue.get", "test_")
    server_side = [name for name in names if not name.startswith(clients_own)]
    assert server_side == ["Deliveries._deliver"]
    for client in clients:
        await leave(client)


async def test_frames_written_in_one_pass_leave_together_when_it_ends() -> None:
    """The outbox flushes each socket that was written to once, after the pass that wrote:
    a socket's frames go out in one send, whatever the number of packets."""
    flushed: list[str] = []

    class Held:
        def __init__(self, name: str) -> None:
            self.name = name

        def flush(self) -> None:
            flushed.append(self.name)

    outbox = Outbox()
    outbox.hold(Held("alice"))
    outbox.hold(Held("bob"))
    assert flushed == []  # nothing leaves while the pass that wrote goes on
    await asyncio.sleep(0)
    assert flushed == ["alice", "bob"]
    outbox.hold(Held("carol"))  # a later pass schedules its own flush
    await asyncio.sleep(0)
    assert flushed == ["alice", "bob", "carol"]


async def test_pushes_made_together_reach_the_socket_in_order(running: Running) -> None:
    """Two pushes in one pass leave in one send; the client still sees two events, in order,
    and a push right before a logout still arrives before the socket is cut."""
    browser = await running.login("alice")
    client = await running.socket(browser, events=("notification",))
    user_id = await running.user_id("alice")
    notes = [{"id": str(n), "kind": "post"} for n in range(5)]
    await asyncio.gather(
        *(running.app.sockets.push_to_user(user_id, "notification", note) for note in notes)
    )
    await eventually(lambda: client.received["notification"] == notes)
    await leave(client)


async def test_a_sockets_events_are_handled_one_after_the_other_in_the_order_sent(
    running: Running,
) -> None:
    """No task per event on the own path: twenty `prefs:set` sent at once are answered in
    the order sent, and the session keeps the last one."""
    themes = ["dark" if n % 2 else "light" for n in range(20)]
    async with raw_socket(running, await running.login("alice")) as raw:
        for n, theme in enumerate(themes):
            await raw.send_str(f'42{n}["prefs:set",{{"theme":"{theme}"}}]')
        await raw.send_str('4220["session:get"]')
        acks: list[tuple[int, Any]] = []
        while len(acks) < len(themes) + 1:
            text = (await asyncio.wait_for(raw.receive(), timeout=5)).data
            if text.startswith("43"):
                bracket = text.index("[")
                acks.append((int(text[2:bracket]), json.loads(text[bracket:])[0]))
    assert [n for n, _ in acks] == list(range(len(themes) + 1))
    assert [ack["prefs"]["theme"] for _, ack in acks[:-1]] == themes
    assert acks[-1][1]["prefs"]["theme"] == themes[-1]


async def test_what_was_written_leaves_before_the_socket_closes(running: Running) -> None:
    """An event and the disconnect in the same pass: the event, socket.io's DISCONNECT and
    Engine.IO's CLOSE all reach the client before its connection ends."""
    async with raw_socket(running, await running.login("alice")) as raw:
        (eio_sid,) = running.app.sio.eio.sockets
        sid = running.app.sio.manager.sid_from_eio_sid(eio_sid, "/")
        await running.app.sio.emit("notification", {"id": "last"}, to=sid)
        await running.app.sio.disconnect(sid)
        frames = [data for data in await frames_until_closed(raw) if data != "2"]
        assert frames[-3:] == ['42["notification",{"id":"last"}]', "41", "1"]


async def test_websocket_control_frames_and_protocol_faults(running: Running) -> None:
    """At the WebSocket level: a ping is answered with a pong of the same data, a client's
    close frame with a close frame; an unmasked frame ends the connection with 1002 and
    text that is not UTF-8 with 1007. Each such socket is gone from the server."""
    browser = await running.login("alice")
    raw, answer = await RawConnection.open(running, browser)
    assert answer.startswith("HTTP/1.1 101 ")
    assert "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in answer
    assert "Sec-WebSocket-Extensions" not in answer  # deflate is never taken
    assert (await raw.frame())[1].startswith(b"0{")
    raw.send(b"hello", opcode=0x9)
    assert await raw.frame() == (0xA, b"hello")
    raw.send(b"\x03\xe8", opcode=0x8)
    assert [kind for kind, _ in await raw.frames_until_closed()] == [0x8]
    for fault, code in ((b"40", 1002), (b"4\xff\xfe", 1007)):
        raw, _ = await RawConnection.open(running, browser)
        await raw.frame()  # OPEN
        raw.send(fault, masked=code != 1002)
        (*_, (kind, payload)) = await raw.frames_until_closed()
        assert kind == 0x8 and int.from_bytes(payload[:2], "big") == code
    await eventually(lambda: not running.app.sio.eio.sockets)


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Sec_WebSocket_Key": ""}, "400"),
        ({"Sec_WebSocket_Key": "c2hvcnQ="}, "400"),
        ({"Sec_WebSocket_Version": "8"}, "426"),
        ({"Connection": "keep-alive"}, "400"),
    ],
)
async def test_a_broken_upgrade_request_is_refused_as_tornado_would(
    running: Running, headers: dict[str, str], status: str
) -> None:
    raw, answer = await RawConnection.open(running, await running.login("alice"), **headers)
    raw.close()
    assert answer.split()[1] == status
    if status == "426":
        assert "sec-websocket-version: 13" in answer.lower()
    assert not running.app.sio.eio.sockets
