"""How pushes reach sockets (chatapp.realtime.delivery): in order, all of them, each once,
without the pusher waiting, and what is queued at shutdown still goes out."""

from __future__ import annotations

import asyncio
import sys

import pytest
from socketio import packet as socketio_packet

from chatapp.realtime.packets import ChatPacket, holds_binary
from chatapp.realtime.registry import user_room
from chatapp.realtime.server import poll_with_timeout
from tests.apps import StartApp, leave
from tests.helpers import arrived, barrier, eventually
from tests.raw_engine_io import frames_until_closed, raw_socket

PUSHES = 300


async def test_many_pushes_arrive_in_the_order_they_were_made(start_app: StartApp) -> None:
    running = await start_app()
    alice = await running.login("alice")
    tabs = [await running.socket(alice, events=("notification",)) for _ in range(2)]
    alice_id = await running.user_id("alice")
    for n in range(PUSHES):  # one user, many users: the same queue
        if n % 2:
            await running.app.sockets.push_to_user(alice_id, "notification", {"n": n})
        else:
            await running.app.sockets.push_to_users([alice_id], "notification", {"n": n})
    for tab in tabs:
        await arrived(tab, "notification", [{"n": n} for n in range(PUSHES)])


async def test_events_pushed_together_arrive_in_their_order_on_every_transport(
    start_app: StartApp,
) -> None:
    """`push_all_to_users` (a post's `feed:post` and `notification`): one look-up per socket,
    each event still its own packet, in order, over a WebSocket and over long-polling."""
    running = await start_app()
    alice = await running.login("alice")
    seen: list[list[tuple[str, int]]] = []
    for transport in ("websocket", "polling"):
        tab = await running.socket(alice, transport)
        seen.append([])
        for name in ("feed:post", "notification"):
            tab.on(name, lambda data, name=name, into=seen[-1]: into.append((name, data["n"])))
    alice_id = await running.user_id("alice")
    for n in range(3):
        await running.app.sockets.push_all_to_users(
            [alice_id], [("feed:post", {"n": n}), ("notification", {"n": n})]
        )
    expected = [(name, n) for n in range(3) for name in ("feed:post", "notification")]
    await eventually(lambda: seen == [expected, expected])


async def test_the_pusher_does_not_wait_for_the_delivery(start_app: StartApp) -> None:
    running = await start_app()
    alice = await running.login("alice")
    tab = await running.socket(alice, events=("notification",))
    sockets = running.app.sockets
    await sockets.push_to_user(await running.user_id("alice"), "notification", {"n": 1})
    assert sockets.deliveries.pending == 1  # the push returned before it was sent
    await arrived(tab, "notification", [{"n": 1}])


async def test_a_socket_in_several_of_the_rooms_gets_one_copy_and_skip_sid_none(
    start_app: StartApp,
) -> None:
    running = await start_app()
    alice, bob = await running.login("alice"), await running.login("bob")
    sender = await running.socket(alice, events=("notification",))
    other_tab = await running.socket(alice, events=("notification",))
    bobs = await running.socket(bob, events=("notification",))
    ids = [await running.user_id("alice"), await running.user_id("bob")]
    await running.app.sockets.push_to_users(
        [*ids, ids[0]], "notification", {"n": 1}, skip_sid=sender.get_sid("/")
    )
    for tab in (other_tab, bobs):
        await arrived(tab, "notification", [{"n": 1}])
    await barrier(sender)
    assert sender.received["notification"] == []


async def test_pushes_queued_at_shutdown_go_out_before_the_connections_close(
    start_app: StartApp,
) -> None:
    running = await start_app()
    browser = await running.login("alice")
    alice_id = await running.user_id("alice")
    async with raw_socket(running, browser) as raw:
        for n in range(PUSHES):
            await running.app.sockets.push_to_user(alice_id, "notification", {"n": n})
        await running.app.sockets.close_all(within=5.0)
        frames = await frames_until_closed(raw)
    events = [frame for frame in frames if frame.startswith('42["notification"')]
    assert events == [f'42["notification",{{"n":{n}}}]' for n in range(PUSHES)]
    assert frames[-1] == "1"  # then engine.io's close


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="wait_for is lean from Python 3.12")
async def test_polling_sockets_wait_for_packets_without_a_task_per_wait(
    start_app: StartApp,
) -> None:
    """Polling sockets keep python-engineio's queue (WebSocket ones have none)."""
    running = await start_app()
    tab = await running.socket(await running.login("alice"), "polling", events=("notification",))
    server = running.app.sio
    eio_sid = server.manager.eio_sid_from_sid(tab.get_sid("/"), "/")
    assert server.eio._get_socket(eio_sid).poll.__func__ is poll_with_timeout
    # A quiet socket outlives several ping intervals (the poll's timeout path works).
    await asyncio.sleep(2.0)
    await eventually(lambda: tab.connected)
    await running.app.sockets.push_to_user(await running.user_id("alice"), "notification", {})
    await arrived(tab, "notification", [{}])


async def test_a_socket_leaves_exactly_its_own_rooms(start_app: StartApp) -> None:
    """Disconnect looks a socket's rooms up (chatapp.realtime.rooms) instead of scanning
    every room: what is left afterwards is exactly the other sockets' rooms."""
    running = await start_app()
    manager = running.app.sio.manager
    stay = await running.socket(await running.login("bob"))
    before = {room: dict(members) for room, members in manager.rooms["/"].items()}
    tabs = [await running.socket(await running.login("alice")) for _ in range(3)]
    sid = tabs[0].get_sid("/")
    user_id = await running.user_id("alice")
    assert manager.get_rooms(sid, "/")[0] == sid and user_room(user_id) in manager.get_rooms(
        sid, "/"
    )
    assert sid not in manager.rooms["/"]  # its own room is answered from the None room
    assert list(manager.get_participants("/", sid)) == [(sid, manager.eio_sid_from_sid(sid, "/"))]
    with pytest.raises(ValueError):
        manager.basic_enter_room(stay.get_sid("/"), "/", sid)  # nobody enters another's
    for tab in tabs:
        await leave(tab)
    await eventually(lambda: {r: dict(m) for r, m in manager.rooms["/"].items()} == before)
    assert set(manager._rooms_of["/"]) == {stay.get_sid("/")}
    await leave(stay)


@pytest.mark.parametrize(
    "data",
    [
        None,
        "text",
        [1, 2.5, True, None, "x"],
        {"ok": True, "user": {"id": "u1", "tags": ["a", "b"]}},
        b"raw",
        bytearray(b"raw"),
        [{"deep": [{"deeper": b"blob"}]}],
        {"a": "b", "z": [1, {"k": bytearray(3)}]},
        ("tuple", b"not searched"),  # as python-socketio: its encoder takes no tuple apart
        {"nested": ("tuple", b"not searched")},
    ],
)
def test_packets_find_binary_as_python_socketio_does(data: object) -> None:
    """ChatPacket's search gives python-socketio's answer, so each packet keeps its type."""
    assert holds_binary(data) is socketio_packet.Packet.data_is_binary(data)
    assert ChatPacket(socketio_packet.ACK, data=[data], id=1).packet_type == (
        socketio_packet.Packet(socketio_packet.ACK, data=[data], id=1).packet_type
    )
