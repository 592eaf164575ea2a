"""Group chat (the contract's "Rooms: group chat"): HTTP, socket events, live membership in one
process and across two behind one Redis. The data layer's own contract, on every database, is in
test_database_contract.py."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.apps import Cluster, Running, ServeApp, app_settings, leave, unique
from tests.client import Browser, body
from tests.helpers import RecordingClient, barrier, call, eventually

ROOM_EVENTS = ("room:message", "room:typing", "room:members", "notification")


@pytest.fixture
async def running(serve_app: ServeApp) -> Running:
    return await serve_app(app_settings(session={"store": "memory"}))


async def friends(a: Browser, b: Browser, a_name: str, b_name: str) -> None:
    await a.request("POST", f"/api/friends/{b_name}")
    assert body(await b.request("POST", f"/api/friends/{a_name}")) == {"friendship": "friends"}


async def people(running: Running, *names: str) -> list[Browser]:
    """Logged-in browsers; the first is friends with every other."""
    browsers = [await running.login(name) for name in names]
    for other, name in zip(browsers[1:], names[1:], strict=True):
        await friends(browsers[0], other, names[0], name)
    return browsers


async def new_room(owner: Browser, name: str, members: list[str]) -> dict[str, Any]:
    response = await owner.request("POST", "/api/rooms", {"name": name, "members": members})
    assert response.code == 201, response.body
    room: dict[str, Any] = body(response)["room"]
    return room


async def send(client: RecordingClient, room: str, text: str) -> dict[str, Any]:
    return await call(client, "room:send", {"room": room, "text": text})


def texts(client: RecordingClient) -> list[str]:
    return [m["text"] for m in client.received["room:message"]]


async def test_a_room_of_friends_over_http(running: Running) -> None:
    ann, bob, cid = await people(running, "ann", "bob", "cid")
    dan = await running.login("dan")
    refused = await ann.request("POST", "/api/rooms", {"name": "x", "members": ["dan"]})
    assert refused.code == 400 and body(refused)["error"]["code"] == "not_friends"
    for bad in ({"name": "", "members": []}, {"name": "x" * 65}, {"name": "x", "members": "bob"}):
        assert (await ann.request("POST", "/api/rooms", bad)).code == 400
    room = await new_room(ann, "Trip", ["bob", "cid", "bob", "ann"])
    assert room["name"] == "Trip" and room["owner"]["username"] == "ann"
    assert [m["username"] for m in room["members"]] == ["ann", "bob", "cid"]
    listed = body(await bob.request("GET", "/api/rooms"))["rooms"]
    assert [(r["room"]["id"], r["unread"]) for r in listed] == [(room["id"], 0)]
    assert "last_message" not in listed[0]
    for outsider, path in (
        (dan, f"/api/rooms/{room['id']}/messages"),
        (ann, "/api/rooms/999999/messages"),
        (ann, "/api/rooms/nonsense/messages"),
    ):
        answer = await outsider.request("GET", path)
        assert answer.code == 404 and body(answer)["error"]["code"] == "unknown_room"
    assert (await dan.request("POST", f"/api/rooms/{room['id']}/read")).code == 404
    assert body(await dan.request("GET", "/api/rooms")) == {"rooms": []}
    html = {"Accept": "text/html"}
    page = await bob.request("GET", f"/rooms/{room['id']}", headers=html)
    assert page.code == 200 and b"Trip" in page.body
    assert (await dan.request("GET", f"/rooms/{room['id']}", headers=html)).code == 404
    assert (await cid.request("GET", "/rooms", headers=html)).code == 200


async def test_messages_reach_every_member_socket_but_the_sending_one(running: Running) -> None:
    ann, bob, _ = await people(running, "ann", "bob", "cid")
    dan = await running.login("dan")
    room = await new_room(ann, "Trip", ["bob"])
    ann_tab, ann_other_tab = [await running.socket(ann, events=ROOM_EVENTS) for _ in range(2)]
    bob_tab = await running.socket(bob, events=ROOM_EVENTS)
    dan_tab = await running.socket(dan, events=ROOM_EVENTS)
    ack = await send(ann_tab, room["id"], "hello <b>all</b>")
    assert ack["ok"] is True and ack["message"]["from"]["username"] == "ann"
    assert ack["message"]["room"] == room["id"] and ack["message"]["text"] == "hello <b>all</b>"
    await eventually(lambda: texts(bob_tab) == texts(ann_other_tab) == ["hello <b>all</b>"])
    refused = await send(dan_tab, room["id"], "let me in")
    assert refused == {"ok": False, "error": refused["error"]}
    assert refused["error"]["code"] == "unknown_room"
    too_long = await send(bob_tab, room["id"], "x" * 2001)
    assert too_long["ok"] is False and too_long["error"]["code"] == "invalid_text"
    assert (await send(bob_tab, room["id"], "x" * 2000))["ok"] is True
    await barrier(ann_tab)
    assert texts(ann_tab) == ["x" * 2000] and texts(dan_tab) == []
    page = body(await bob.request("GET", f"/api/rooms/{room['id']}/messages?limit=1"))
    assert [m["text"] for m in page["messages"]] == ["x" * 2000] and page["next"]
    older = body(
        await bob.request("GET", f"/api/rooms/{room['id']}/messages?before={page['next']}")
    )
    assert [m["text"] for m in older["messages"]] == ["hello <b>all</b>"]
    listed = body(await ann.request("GET", "/api/rooms"))["rooms"]
    assert listed[0]["unread"] == 1 and listed[0]["last_message"]["text"] == "x" * 2000
    assert (await ann.request("POST", f"/api/rooms/{room['id']}/read")).code == 204
    assert body(await ann.request("GET", "/api/rooms"))["rooms"][0]["unread"] == 0
    for client in (ann_tab, ann_other_tab, bob_tab, dan_tab):
        await leave(client)


async def test_membership_changes_reach_open_sockets_at_once(running: Running) -> None:
    ann, bob, cid = await people(running, "ann", "bob", "cid")
    await friends(bob, cid, "bob", "cid")
    room = await new_room(ann, "Trip", ["bob"])
    ann_tab, bob_tab, cid_tab = [
        await running.socket(b, events=ROOM_EVENTS) for b in (ann, bob, cid)
    ]
    added = await bob.request("POST", f"/api/rooms/{room['id']}/members", {"username": "cid"})
    assert added.code == 204  # any member adds a friend of their own
    await eventually(lambda: bool(cid_tab.received["room:members"]))
    assert [m["username"] for m in cid_tab.received["room:members"][-1]["room"]["members"]] == [
        "ann",
        "bob",
        "cid",
    ]
    await send(ann_tab, room["id"], "welcome cid")
    await eventually(lambda: texts(cid_tab) == ["welcome cid"])

    path = f"/api/rooms/{room['id']}/members"
    forbidden = await bob.request("DELETE", f"{path}/cid")
    assert forbidden.code == 403 and body(forbidden)["error"]["code"] == "forbidden"
    assert (await ann.request("DELETE", f"{path}/nobody")).code == 404
    told = len(bob_tab.received["room:members"])
    assert (await ann.request("DELETE", f"{path}/bob")).code == 204  # the owner removes anyone
    await eventually(lambda: len(bob_tab.received["room:members"]) == told + 1)
    assert all(
        m["username"] != "bob" for m in bob_tab.received["room:members"][-1]["room"]["members"]
    )
    await send(ann_tab, room["id"], "bob is gone")
    await eventually(lambda: texts(cid_tab) == ["welcome cid", "bob is gone"])
    await barrier(bob_tab)
    assert texts(bob_tab) == ["welcome cid"]
    assert (await send(bob_tab, room["id"], "still here?"))["error"]["code"] == "unknown_room"
    assert (await bob.request("GET", f"/api/rooms/{room['id']}/messages")).code == 404
    assert (await cid.request("DELETE", f"{path}/cid")).code == 204  # a member leaves
    assert body(await cid.request("GET", "/api/rooms")) == {"rooms": []}
    for client in (ann_tab, bob_tab, cid_tab):
        await leave(client)


async def test_a_socket_opened_later_is_in_its_rooms(running: Running) -> None:
    ann, bob = await people(running, "ann", "bob")
    room = await new_room(ann, "Trip", ["bob"])
    ann_tab = await running.socket(ann, events=ROOM_EVENTS)
    bob_tab = await running.socket(bob, events=ROOM_EVENTS)
    await send(ann_tab, room["id"], "for the new tab")
    await eventually(lambda: texts(bob_tab) == ["for the new tab"])
    for client in (ann_tab, bob_tab):
        await leave(client)


async def test_typing_goes_to_the_other_sockets_at_most_every_3_seconds(running: Running) -> None:
    ann, bob = await people(running, "ann", "bob")
    dan = await running.login("dan")
    room = await new_room(ann, "Trip", ["bob"])
    ann_tab, bob_tab = [await running.socket(b, events=ROOM_EVENTS) for b in (ann, bob)]
    dan_tab = await running.socket(dan, events=ROOM_EVENTS)
    for _ in range(3):
        assert await call(ann_tab, "room:typing", {"room": room["id"]}) == {"ok": True}
    await eventually(lambda: len(bob_tab.received["room:typing"]) == 1)
    typing = bob_tab.received["room:typing"][0]
    assert typing["room"] == room["id"] and typing["user"]["username"] == "ann"
    refused = await call(dan_tab, "room:typing", {"room": room["id"]})
    assert refused["ok"] is False and refused["error"]["code"] == "unknown_room"
    bad = await call(ann_tab, "room:typing", {"room": 7})
    assert bad["ok"] is False and bad["error"]["code"] == "invalid_room"
    await barrier(bob_tab)
    assert len(bob_tab.received["room:typing"]) == 1 and not ann_tab.received["room:typing"]
    for client in (ann_tab, bob_tab, dan_tab):
        await leave(client)


async def test_a_member_with_no_socket_is_notified(running: Running) -> None:
    ann, bob, cid = await people(running, "ann", "bob", "cid")
    room = await new_room(ann, "Trip", ["bob", "cid"])
    ann_tab, bob_tab = [await running.socket(b, events=ROOM_EVENTS) for b in (ann, bob)]
    await send(ann_tab, room["id"], "anyone?")
    await eventually(lambda: texts(bob_tab) == ["anyone?"])
    listed = body(await cid.request("GET", "/api/notifications"))["notifications"]
    (notified,) = [n for n in listed if n["kind"] == "room_message"]
    assert notified["room_id"] == room["id"] and notified["text"] == "anyone?"  # leads there
    bob_kinds = [
        n["kind"] for n in body(await bob.request("GET", "/api/notifications"))["notifications"]
    ]
    assert "room_message" not in bob_kinds  # bob had a socket open: the message itself told him
    for client in (ann_tab, bob_tab):
        await leave(client)


async def test_two_processes_act_as_one_for_rooms(cluster: Cluster) -> None:
    """A removal made in one process stops the room reaching the removed member's socket in
    the other at once: nothing sent after the removal's answer reaches it, even in a burst."""
    one, two = await cluster()
    ann_name, bob_name, cid_name = unique("ann"), unique("bob"), unique("cid")
    ann, bob, cid = await people(one, ann_name, bob_name, cid_name)
    room = await new_room(ann, "Split", [bob_name, cid_name])
    ann_tab = await one.socket(ann, events=ROOM_EVENTS)
    bob_tab = await two.socket(two.browser_with(bob), events=ROOM_EVENTS)
    cid_tab = await two.socket(two.browser_with(cid), events=ROOM_EVENTS)
    await send(ann_tab, room["id"], "across")
    await eventually(lambda: texts(bob_tab) == texts(cid_tab) == ["across"])
    burst = [asyncio.create_task(send(ann_tab, room["id"], f"burst {n}")) for n in range(20)]
    removed = await ann.request("DELETE", f"/api/rooms/{room['id']}/members/{bob_name}")
    assert removed.code == 204
    after = [await send(ann_tab, room["id"], f"after {n}") for n in range(5)]
    await asyncio.gather(*burst)
    assert all(a["ok"] for a in after)
    await eventually(lambda: texts(cid_tab)[-5:] == [f"after {n}" for n in range(5)])
    await barrier(bob_tab)
    assert not any(text.startswith("after") for text in texts(bob_tab))
    for client in (ann_tab, bob_tab, cid_tab):
        await leave(client)


# -- edit and delete (messages, comments, room messages) -------------------------------------

EDIT_EVENTS = ("room:edited", "chat:edited", "feed:comment_edited", "room:message")


async def test_an_author_edits_and_deletes_and_every_receiver_hears_it(running: Running) -> None:
    ann, bob, cid = await people(running, "ann", "bob", "cid")
    room = await new_room(ann, "Trip", ["bob"])
    ann_tab, bob_tab, cid_tab = [
        await running.socket(b, events=EDIT_EVENTS) for b in (ann, bob, cid)
    ]
    said = (await send(ann_tab, room["id"], "typo"))["message"]
    path = f"/api/rooms/{room['id']}/messages/{said['id']}"
    assert (await bob.request("PATCH", path, {"text": "not mine"})).code == 403
    assert (await cid.request("PATCH", path, {"text": "outsider"})).code == 404
    assert (await ann.request("PATCH", path, {"text": ""})).code == 400
    edited = body(await ann.request("PATCH", path, {"text": "fixed"}))["message"]
    assert edited["text"] == "fixed" and edited["edited_at"] and edited["id"] == said["id"]
    await eventually(
        lambda: bob_tab.received["room:edited"] == [edited] == ann_tab.received["room:edited"]
    )
    assert (await ann.request("DELETE", path)).code == 204
    await eventually(lambda: len(bob_tab.received["room:edited"]) == 2)
    gone = bob_tab.received["room:edited"][-1]
    assert gone["deleted"] is True and gone["text"] == "" and gone["id"] == said["id"]
    history = body(await bob.request("GET", f"/api/rooms/{room['id']}/messages"))["messages"]
    assert [(m["id"], m.get("deleted")) for m in history] == [(said["id"], True)]
    assert (await ann.request("PATCH", path, {"text": "back?"})).code == 404  # deleted stays so

    message = await _direct(ann_tab, "bob", "hey")
    chat_path = f"/api/messages/bob/{message['id']}"
    assert (
        await bob.request("PATCH", f"/api/messages/ann/{message['id']}", {"text": "x"})
    ).code == 403
    changed = body(await ann.request("PATCH", chat_path, {"text": "hey there"}))["message"]
    await eventually(lambda: bob_tab.received["chat:edited"] == [changed])
    assert (await ann.request("DELETE", f"/api/messages/cid/{message['id']}")).code == 404

    post = body(await ann.request("POST", "/api/posts", {"text": "a post"}))["post"]
    comment = body(
        await bob.request("POST", f"/api/posts/{post['id']}/comments", {"text": "nice"})
    )["comment"]
    comment_path = f"/api/posts/{post['id']}/comments/{comment['id']}"
    assert (await ann.request("DELETE", comment_path)).code == 403  # the post's author is not its
    assert (await bob.request("DELETE", comment_path)).code == 204
    await eventually(lambda: len(ann_tab.received["feed:comment_edited"]) == 1)
    assert ann_tab.received["feed:comment_edited"][0]["deleted"] is True
    await eventually(lambda: len(cid_tab.received["feed:comment_edited"]) == 1)  # ann's friend
    assert not cid_tab.received["room:edited"] and not cid_tab.received["chat:edited"]
    for client in (ann_tab, bob_tab, cid_tab):
        await leave(client)


async def _direct(client: RecordingClient, to: str, text: str) -> Any:
    ack = await call(client, "chat:send", {"to": to, "text": text})
    assert ack["ok"] is True, ack
    return ack["message"]
