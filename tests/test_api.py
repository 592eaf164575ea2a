"""The contract's HTTP API and social socket events, against a running app.

Run for SQLite and MongoDB data, with file, redis and memory session stores.
Socket clients stand for open browser tabs and record what reaches them.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import bcrypt
import pytest

from chatapp.accounts.passwords import Passwords
from chatapp.sessions.cookies import COOKIE_NAME
from tests.apps import PASSWORD, Running, ServeApp, app_settings, leave
from tests.client import Browser, body
from tests.helpers import RecordingClient, arrived, barrier, call, eventually, notified

COMBINATIONS = ["file+sqlite", "redis+mongodb-pymongo", "memory+mongodb-motor"]
TAB_EVENTS = (
    "notification",
    "feed:post",
    "feed:comment",
    "chat:message",
    "presence",
    "user:renamed",
)


@pytest.fixture(params=COMBINATIONS)
async def running(request: pytest.FixtureRequest, serve_app: ServeApp, tmp_path: Path) -> Running:
    store, database = request.param.split("+")
    sections: dict[str, dict[str, object]] = {
        "session": {"store": store, "file_dir": str(tmp_path / "sessions")},
        # As behind a proxy: tests name the client's address in X-Forwarded-For.
        "server": {"behind_proxy": True},
    }
    if store == "redis":
        sections["redis"] = {"url": request.getfixturevalue("redis_url")}
    if database.startswith("mongodb"):
        base = request.getfixturevalue("mongodb_url").rsplit("/", 1)[0]
        sections["database"] = {"url": f"{base}/api_{uuid.uuid4().hex[:12]}"}
        sections["mongodb"] = {"driver": database.split("-")[1]}
    return await serve_app(app_settings(**sections))


async def tab(running: Running, browser: Browser) -> RecordingClient:
    return await running.socket(browser, events=TAB_EVENTS)


async def friends(a: Browser, b: Browser, a_name: str, b_name: str) -> None:
    await a.request("POST", f"/api/friends/{b_name}")
    assert body(await b.request("POST", f"/api/friends/{a_name}")) == {"friendship": "friends"}


def got(client: RecordingClient, event: str) -> list[Any]:
    return client.received[event]


# -- accounts ---------------------------------------------------------------------------------


async def test_sign_up_logs_in_and_refuses_bad_or_taken_names(running: Running) -> None:
    browser = running.browser()
    response = await browser.request(
        "POST",
        "/api/signup",
        {"username": "alice", "password": PASSWORD, "display_name": "Alice A."},
    )
    assert response.code == 201
    user = body(response)["user"]
    assert user["username"] == "alice" and user["display_name"] == "Alice A."
    assert isinstance(user["id"], str)
    assert body(await browser.request("GET", "/api/session"))["user"] == user
    stranger = running.browser()
    for payload, status, code in [
        ({"username": "alice", "password": PASSWORD}, 409, "username_taken"),
        ({"username": "Alice", "password": PASSWORD}, 400, "invalid_username"),
        ({"username": "al", "password": PASSWORD}, 400, "invalid_username"),
        ({"username": "a" * 33, "password": PASSWORD}, 400, "invalid_username"),
        ({"username": "al ice", "password": PASSWORD}, 400, "invalid_username"),
        ({"username": 5, "password": PASSWORD}, 400, "invalid_username"),
        ({"username": "bobby", "password": "short"}, 400, "weak_password"),
        ({"username": "bobby", "password": "x" * 1025}, 400, "password_too_long"),
        ({"username": "bobby", "password": PASSWORD, "admin": True}, 400, "unknown_field"),
        ({"username": "bobby"}, 400, "missing_field"),
        (
            {"username": "bobby", "password": PASSWORD, "display_name": ""},
            400,
            "invalid_display_name",
        ),
        ("[]", 400, "invalid_json"),
    ]:
        response = await stranger.request("POST", "/api/signup", payload)
        assert (response.code, body(response)["error"]["code"]) == (status, code), payload
    default = await running.member("bobby")
    assert body(await default.request("GET", "/api/session"))["user"]["display_name"] == "bobby"


async def test_login_answers_alike_for_unknown_users_and_wrong_passwords(
    running: Running,
) -> None:
    await running.member("alice")
    browser = running.browser()
    wrong = await browser.request("POST", "/api/login", {"username": "alice", "password": "x" * 9})
    unknown = await browser.request(
        "POST", "/api/login", {"username": "nobody", "password": PASSWORD}
    )
    assert wrong.code == unknown.code == 401
    assert body(wrong) == body(unknown)
    assert body(wrong)["error"]["code"] == "bad_credentials"
    await browser.request("PUT", "/api/prefs", {"theme": "dark"})
    before = browser.cookies[COOKIE_NAME]
    response = await browser.request(
        "POST", "/api/login", {"username": "alice", "password": PASSWORD}
    )
    assert response.code == 200 and body(response)["user"]["username"] == "alice"
    assert browser.cookies[COOKIE_NAME] != before  # a new session id at login
    state = body(await browser.request("GET", "/api/session"))
    assert state["authenticated"] and state["prefs"] == {"theme": "dark"}
    response = await browser.request("POST", "/api/login", {"username": ["x"], "password": 1})
    assert response.code == 400


async def test_long_passwords_count_in_full(running: Running) -> None:
    """Before: over 72 bytes was `400 password_too_long`; 64 x "é" could not sign up."""
    for n, password in enumerate(["a" * 72, "b" * 73, "c" * 128, "é" * 64, "d" * 1024]):
        username = f"long{n}"
        signup = {"username": username, "password": password}
        assert (await running.browser().request("POST", "/api/signup", signup)).code == 201
        assert (await running.browser().request("POST", "/api/login", signup)).code == 200
    # bcrypt alone would read only the first 72 bytes: here the 73rd counts
    prefix = {"username": "long1", "password": "b" * 72}
    assert (await running.browser().request("POST", "/api/login", prefix)).code == 401


async def test_bcrypt_hashes_verify_and_are_replaced_by_argon2id_at_login(
    running: Running,
) -> None:
    """Both bcrypt kinds stored before argon2id (plain, and over an HMAC-SHA256 pre-hash)."""
    plain = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()
    as_bcrypt = Passwords("bcrypt", bcrypt_cost=4, max_waiting=1, threads=1)
    try:
        condensed = await as_bcrypt.hash(PASSWORD)
    finally:
        as_bcrypt.close()
    for username, stored in (("elder", plain), ("older", condensed)):
        user = await running.app.db.create_user(username, "Elder", stored)
        credentials = {"username": username, "password": PASSWORD}
        wrong = {"username": username, "password": PASSWORD + "!"}
        assert (await running.browser().request("POST", "/api/login", wrong)).code == 401
        assert (await running.browser().request("POST", "/api/login", credentials)).code == 200
        account = await running.app.db.account(username)
        assert account is not None and account.user == user
        assert account.password_hash.startswith("$argon2id$")  # replaced at the login
        assert (await running.browser().request("POST", "/api/login", credentials)).code == 200


async def test_a_throttled_login_is_refused_right_or_wrong_without_checking_it(
    running: Running,
) -> None:
    """The contract's login row: 10 failures in a row for a username from one address,
    then 429 for the right password too (a guesser learns nothing); other addresses
    are not locked out; 20 failures a minute from one address throttle it."""
    await running.member("alice")
    browser = running.browser()

    async def log_in(username: str, password: str, address: str = "192.0.2.1") -> int:
        response = await browser.request(
            "POST",
            "/api/login",
            {"username": username, "password": password},
            headers={"X-Forwarded-For": address},
        )
        if response.code == 429:
            assert body(response)["error"]["code"] == "throttled"
            assert int(response.headers["Retry-After"]) > 0
        return response.code

    assert await log_in("alice", "wrong-password") == 401
    assert await log_in("alice", PASSWORD) == 200  # a success clears the count
    assert [await log_in("alice", "wrong-password") for _ in range(11)] == [401] * 10 + [429]
    assert await log_in("alice", PASSWORD) == 429  # the right one too: not even checked
    assert await log_in("alice", PASSWORD, "192.0.2.2") == 200  # elsewhere: not locked out
    # 20 failures in a minute from one address, over other usernames: 11 so far, 9 more.
    assert {await log_in(f"u{i}", "x" * 8) for i in range(9)} == {401}
    assert await log_in("someone", "x" * 8) == 429
    assert await log_in("someone", "x" * 8, "192.0.2.3") == 401
    # Sign-ups are not throttled.
    response = await browser.request(
        "POST",
        "/api/signup",
        {"username": "newcomer", "password": PASSWORD},
        headers={"X-Forwarded-For": "192.0.2.1"},
    )
    assert response.code == 201


async def test_everything_but_the_session_needs_a_login(running: Running) -> None:
    anonymous = running.browser()
    for method, path, payload in [
        ("GET", "/api/users?q=a", None),
        ("GET", "/api/friends", None),
        ("POST", "/api/friends/alice", None),
        ("DELETE", "/api/friends/alice", None),
        ("POST", "/api/posts", {"text": "hi"}),
        ("GET", "/api/feed", None),
        ("GET", "/api/posts/1", None),
        ("POST", "/api/posts/1/comments", {"text": "hi"}),
        ("GET", "/api/notifications", None),
        ("POST", "/api/notifications/read", {}),
        ("GET", "/api/messages/alice", None),
    ]:
        response = await anonymous.request(method, path, payload)
        assert response.code == 401, (method, path)
        assert body(response)["error"]["code"] == "unauthorized"


# -- friends ------------------------------------------------------------------------------------


async def test_a_friend_request_and_its_acceptance_notify_live(running: Running) -> None:
    alice, bob = await running.member("alice"), await running.member("bob")
    alice_tab, bob_tab = await tab(running, alice), await tab(running, bob)
    assert body(await bob.request("POST", "/api/friends/alice")) == {"friendship": "requested"}
    await eventually(lambda: len(got(alice_tab, "notification")) == 1)
    request = got(alice_tab, "notification")[0]
    assert request["kind"] == "friend_request" and request["actor"]["username"] == "bob"
    assert request["read"] is False and request["created_at"].endswith("Z")
    found = body(await alice.request("GET", "/api/users?q=bo"))["users"]
    assert [(u["username"], u["friendship"]) for u in found] == [("bob", "incoming")]
    listing = body(await alice.request("GET", "/api/friends"))
    assert [u["username"] for u in listing["incoming"]] == ["bob"]
    assert listing["friends"] == [] and listing["requested"] == []
    assert body(await alice.request("POST", "/api/friends/bob")) == {"friendship": "friends"}
    await eventually(lambda: len(got(bob_tab, "notification")) == 1)
    assert got(bob_tab, "notification")[0]["kind"] == "friend_accepted"
    (friend,) = body(await bob.request("GET", "/api/friends"))["friends"]
    assert friend["username"] == "alice" and friend["online"] is True
    assert (await alice.request("DELETE", "/api/friends/bob")).code == 204
    assert body(await bob.request("GET", "/api/users?q=alice"))["users"][0]["friendship"] == "none"
    for path, status in [("/api/friends/nobody", 404), ("/api/friends/alice", 400)]:
        response = await alice.request("POST", path)
        assert response.code == status and "error" in body(response)
    await leave(alice_tab)
    await leave(bob_tab)


# -- posts ----------------------------------------------------------------------------------------


async def test_a_post_reaches_every_online_friend_and_no_one_else(running: Running) -> None:
    alice, bob, carol, dave = [await running.member(n) for n in ("alice", "bob", "carol", "dave")]
    await friends(alice, bob, "alice", "bob")
    await friends(alice, dave, "alice", "dave")  # dave stays offline
    bob_tabs = [await tab(running, bob) for _ in range(2)]
    alice_tab, carol_tab = await tab(running, alice), await tab(running, carol)
    response = await alice.request("POST", "/api/posts", {"text": "hello friends"})
    assert response.code == 201
    post = body(response)["post"]
    assert post["author"]["username"] == "alice" and post["comment_count"] == 0
    for client in (*bob_tabs, alice_tab):  # an HTTP post has no sending socket: every tab
        await arrived(client, "feed:post", [post])
    for client in bob_tabs:
        await notified(client, "post")
        assert [n["post_id"] for n in got(client, "notification")] == [post["id"]]
    await barrier(carol_tab)
    assert got(carol_tab, "feed:post") == [] and got(carol_tab, "notification") == []
    inbox = body(await dave.request("GET", "/api/notifications"))
    assert inbox["notifications"][0]["kind"] == "post" and inbox["unread"] >= 1
    assert body(await carol.request("GET", "/api/feed"))["posts"] == []
    assert body(await bob.request("GET", "/api/feed"))["posts"][0] == post
    for client in (*bob_tabs, alice_tab, carol_tab):
        await leave(client)


async def test_the_feed_pages_by_cursor_and_checks_its_arguments(running: Running) -> None:
    alice = await running.member("alice")
    for i in range(5):
        await alice.request("POST", "/api/posts", {"text": f"p{i}"})
    first = body(await alice.request("GET", "/api/feed?limit=2"))
    await alice.request("POST", "/api/posts", {"text": "newer"})
    second = body(await alice.request("GET", f"/api/feed?limit=2&before={first['next']}"))
    third = body(await alice.request("GET", f"/api/feed?limit=2&before={second['next']}"))
    assert [p["text"] for p in first["posts"] + second["posts"] + third["posts"]] == [
        "p4",
        "p3",
        "p2",
        "p1",
        "p0",
    ]
    assert third["next"] is None
    for query, code in [
        ("limit=0", "invalid_limit"),
        ("limit=101", "invalid_limit"),
        ("limit=x", "invalid_limit"),
        ("before=abc", "invalid_cursor"),
    ]:
        response = await alice.request("GET", f"/api/feed?{query}")
        assert (response.code, body(response)["error"]["code"]) == (400, code)
    for text in ["", "   ", "x" * 1001, 5, None]:
        response = await alice.request("POST", "/api/posts", {"text": text})
        assert (response.code, body(response)["error"]["code"]) == (400, "invalid_text")


async def test_posts_and_comments_are_hidden_from_strangers(running: Running) -> None:
    alice, bob, carol = [await running.member(n) for n in ("alice", "bob", "carol")]
    await friends(alice, bob, "alice", "bob")
    alice_tab, bob_tab, carol_tab = [await tab(running, b) for b in (alice, bob, carol)]
    post = body(await alice.request("POST", "/api/posts", {"text": "friends only"}))["post"]
    for path in (f"/api/posts/{post['id']}", "/api/posts/999999", "/api/posts/abc"):
        response = await carol.request("GET", path)
        assert response.code == 404 and body(response)["error"]["code"] == "unknown_post"
    response = await carol.request("POST", f"/api/posts/{post['id']}/comments", {"text": "hi"})
    assert response.code == 404
    response = await bob.request("POST", f"/api/posts/{post['id']}/comments", {"text": "nice"})
    assert response.code == 201
    comment = body(response)["comment"]
    assert comment["post_id"] == post["id"] and comment["author"]["username"] == "bob"
    for client in (alice_tab, bob_tab):
        await arrived(client, "feed:comment", [comment])
    await notified(alice_tab, "comment")
    shown = body(await alice.request("GET", f"/api/posts/{post['id']}"))
    assert shown["post"]["comment_count"] == 1 and shown["comments"] == [comment]
    await barrier(carol_tab)
    assert got(carol_tab, "feed:comment") == []
    for client in (alice_tab, bob_tab, carol_tab):
        await leave(client)


async def test_a_stale_cancel_never_unfriends(running: Running) -> None:
    """The contract's DELETE ...?expect=STATE: the page sends the state it shows."""
    dave, carol = await running.member("dave"), await running.member("carol")
    assert body(await dave.request("POST", "/api/friends/carol")) == {"friendship": "requested"}
    assert body(await carol.request("POST", "/api/friends/dave")) == {"friendship": "friends"}
    stale = await dave.request("DELETE", "/api/friends/carol?expect=requested")
    assert stale.code == 409 and body(stale)["error"]["code"] == "friendship_changed"
    users = body(await dave.request("GET", "/api/users?q=carol"))["users"]
    assert users[0]["friendship"] == "friends"
    bad = await dave.request("DELETE", "/api/friends/carol?expect=enemies")
    assert bad.code == 400
    assert (await dave.request("DELETE", "/api/friends/carol?expect=friends")).code == 204
    assert (await dave.request("DELETE", "/api/friends/carol?expect=friends")).code == 409


async def test_every_friendship_change_reaches_both_peoples_pages(running: Running) -> None:
    """`friendship:changed`, each side told its own view: no open page keeps a stale button."""
    dave, carol = await running.member("dave"), await running.member("carol")
    events = ("friendship:changed",)
    dave_tab = await running.socket(dave, events=events)
    carol_tab = await running.socket(carol, events=events)

    def seen(client: RecordingClient) -> list[tuple[str, str]]:
        return [(e["user"]["username"], e["friendship"]) for e in got(client, events[0])]

    await dave.request("POST", "/api/friends/carol")
    await carol.request("POST", "/api/friends/dave")
    await carol.request("POST", "/api/friends/dave")  # already friends: no change, no event
    await dave.request("DELETE", "/api/friends/carol?expect=requested")  # 409: no event
    await dave.request("DELETE", "/api/friends/carol")
    want_dave = [("carol", "requested"), ("carol", "friends"), ("carol", "none")]
    want_carol = [("dave", "incoming"), ("dave", "friends"), ("dave", "none")]
    await eventually(lambda: seen(dave_tab) == want_dave and seen(carol_tab) == want_carol)
    for client in (dave_tab, carol_tab):
        await barrier(client)
    assert (seen(dave_tab), seen(carol_tab)) == (want_dave, want_carol)
    for client in (dave_tab, carol_tab):
        await leave(client)


async def test_reading_tells_every_tab_the_unread_count(running: Running) -> None:
    """After a read in one tab, every tab's bell shows the server's count."""
    alice, bob = await running.member("alice"), await running.member("bob")
    await friends(alice, bob, "alice", "bob")
    tabs = [await running.socket(alice, events=("notifications:unread",)) for _ in range(2)]
    bob_tab = await tab(running, bob)
    for text in ("one", "two"):
        assert (await call(bob_tab, "chat:send", {"to": "alice", "text": text}))["ok"]
    await bob.request("POST", "/api/posts", {"text": "news"})
    assert body(await alice.request("GET", "/api/notifications"))["unread"] == 4
    assert (await alice.request("POST", "/api/conversations/bob/read")).code == 204
    left = [{"unread": 2}]  # bob's acceptance and his post
    for client in tabs:
        await arrived(client, "notifications:unread", left)
    assert (await alice.request("POST", "/api/notifications/read", {})).code == 204
    for client in tabs:
        await arrived(client, "notifications:unread", [*left, {"unread": 0}])
    for client in (*tabs, bob_tab):
        await leave(client)


async def test_a_repeated_idempotency_key_makes_one_post(running: Running) -> None:
    alice, bob = await running.member("alice"), await running.member("bob")
    await friends(alice, bob, "alice", "bob")
    bob_tab = await tab(running, bob)
    key = {"Idempotency-Key": "post-7f3a_1"}
    first = await alice.request("POST", "/api/posts", {"text": "once"}, headers=key)
    again = await alice.request("POST", "/api/posts", {"text": "once"}, headers=key)
    assert first.code == 201 and again.code in (200, 201)
    assert body(again)["post"] == body(first)["post"]
    assert [p["text"] for p in body(await alice.request("GET", "/api/feed"))["posts"]] == ["once"]
    await arrived(bob_tab, "feed:post", [body(first)["post"]])
    for bad in ("", "x" * 65, "has space", "é"):
        refused = await alice.request(
            "POST", "/api/posts", {"text": "x"}, headers={"Idempotency-Key": bad}
        )
        assert refused.code == 400, bad
    await leave(bob_tab)


async def test_conversations_are_listed_and_read_on_purpose(running: Running) -> None:
    alice, bob = await running.member("alice"), await running.member("bob")
    await friends(alice, bob, "alice", "bob")
    bob_tab = await tab(running, bob)
    for text in ("hi", "tea at six?"):
        assert (await call(bob_tab, "chat:send", {"to": "alice", "text": text}))["ok"] is True
    listed = body(await alice.request("GET", "/api/conversations"))["conversations"]
    assert len(listed) == 1 and listed[0]["unread"] == 2
    assert listed[0]["with"]["username"] == "bob"
    assert listed[0]["last_message"]["text"] == "tea at six?"
    assert set(listed[0]["last_message"]) == {"id", "from", "to", "text", "created_at"}
    await alice.request("GET", "/api/messages/bob")  # reading the history is not reading it
    assert body(await alice.request("GET", "/api/conversations"))["conversations"][0]["unread"] == 2
    assert (await alice.request("POST", "/api/conversations/bob/read")).code == 204
    assert body(await alice.request("GET", "/api/conversations"))["conversations"][0]["unread"] == 0
    inbox = body(await alice.request("GET", "/api/notifications"))
    assert not [n for n in inbox["notifications"] if n["kind"] == "message" and not n["read"]]
    assert (await alice.request("POST", "/api/conversations/nobody/read")).code == 404
    await bob.request("DELETE", "/api/friends/alice")
    assert body(await alice.request("GET", "/api/conversations"))["conversations"] == []
    await leave(bob_tab)


async def test_notifications_page_like_the_feed(running: Running) -> None:
    alice, bob = await running.member("alice"), await running.member("bob")
    await friends(alice, bob, "alice", "bob")
    for i in range(3):
        await alice.request("POST", "/api/posts", {"text": f"post {i}"})
    # bob has 4: alice's friend request and her 3 posts.
    first = body(await bob.request("GET", "/api/notifications?limit=3"))
    assert len(first["notifications"]) == 3 and first["unread"] == 4 and first["next"]
    rest = body(await bob.request("GET", f"/api/notifications?limit=3&before={first['next']}"))
    assert len(rest["notifications"]) == 1 and rest["next"] is None and rest["unread"] == 4
    assert rest["notifications"][0]["kind"] == "friend_request"
    assert (await bob.request("GET", "/api/notifications?before=nope")).code == 400


async def test_notifications_are_marked_read_by_id_or_all(running: Running) -> None:
    alice, bob, carol = [await running.member(n) for n in ("alice", "bob", "carol")]
    await bob.request("POST", "/api/friends/alice")
    await carol.request("POST", "/api/friends/alice")
    inbox = body(await alice.request("GET", "/api/notifications"))
    assert inbox["unread"] == 2
    assert [n["actor"]["username"] for n in inbox["notifications"]] == ["carol", "bob"]
    newest = inbox["notifications"][0]["id"]
    assert (await alice.request("POST", "/api/notifications/read", {"ids": [newest]})).code == 204
    assert body(await alice.request("GET", "/api/notifications"))["unread"] == 1
    for payload in [{"ids": "all"}, {"ids": [1]}, {"everything": True}]:
        response = await alice.request("POST", "/api/notifications/read", payload)
        assert response.code == 400
    assert (await alice.request("POST", "/api/notifications/read", {})).code == 204
    assert body(await alice.request("GET", "/api/notifications"))["unread"] == 0


# -- sockets: chat and profile -----------------------------------------------------------------


async def test_chat_between_friends_reaches_both_sides_tabs_and_is_refused_to_strangers(
    running: Running,
) -> None:
    alice, bob, carol = [await running.member(n) for n in ("alice", "bob", "carol")]
    await friends(alice, bob, "alice", "bob")
    sender, alice_other = await tab(running, alice), await tab(running, alice)
    bob_tabs = [await tab(running, bob) for _ in range(2)]
    ack = await call(sender, "chat:send", {"to": "bob", "text": "hi bob"})
    assert ack["ok"] is True
    message = ack["message"]
    assert message["from"]["username"] == "alice" and message["to"]["username"] == "bob"
    for client in (*bob_tabs, alice_other):
        await arrived(client, "chat:message", [message])
    await notified(bob_tabs[0], "message")
    assert got(sender, "chat:message") == []
    history = body(await bob.request("GET", "/api/messages/alice"))
    assert history["messages"] == [message] and history["next"] is None
    refused = await call(sender, "chat:send", {"to": "carol", "text": "hi"})
    assert refused["ok"] is False and refused["error"]["code"] == "not_friends"
    for data, code in [
        ({"to": "bob"}, "missing_field"),
        ({"to": "bob", "text": ""}, "invalid_text"),
        ({"to": "Bob!", "text": "x"}, "invalid_username"),
        ({"to": "nobody", "text": "x"}, "unknown_user"),
    ]:
        refused = await call(sender, "chat:send", data)
        assert refused["error"]["code"] == code, data
    assert (await carol.request("GET", "/api/messages/alice")).code == 403
    assert (await carol.request("GET", "/api/messages/nobody")).code == 404
    for client in (sender, alice_other, *bob_tabs):
        await leave(client)


async def test_a_rename_goes_to_the_user_record_the_session_and_friends(running: Running) -> None:
    alice, bob = await running.member("alice"), await running.member("bob")
    await friends(alice, bob, "alice", "bob")
    renaming, other_tab = await tab(running, alice), await tab(running, alice)
    bob_tab = await tab(running, bob)
    ack = await call(renaming, "profile:rename", {"display_name": "Alice Liddell"})
    assert ack["ok"] is True and ack["user"]["display_name"] == "Alice Liddell"
    for client in (other_tab, bob_tab):
        await arrived(client, "user:renamed", [ack["user"]])
    assert got(renaming, "user:renamed") == []
    assert (
        body(await alice.request("GET", "/api/session"))["user"]["display_name"] == "Alice Liddell"
    )
    for name in ["", "x" * 65, "tab\there", 5]:
        refused = await call(renaming, "profile:rename", {"display_name": name})
        assert refused["error"]["code"] == "invalid_display_name"
    for client in (renaming, other_tab, bob_tab):
        await leave(client)


async def test_presence_goes_to_friends_only(running: Running) -> None:
    alice, bob, carol = [await running.member(n) for n in ("alice", "bob", "carol")]
    await friends(alice, bob, "alice", "bob")
    alice_tab, carol_tab = await tab(running, alice), await tab(running, carol)
    bob_tab = await tab(running, bob)
    await eventually(lambda: [p["online"] for p in got(alice_tab, "presence")] == [True])
    assert got(alice_tab, "presence")[0]["user"]["username"] == "bob"
    await leave(bob_tab)
    await eventually(lambda: [p["online"] for p in got(alice_tab, "presence")] == [True, False])
    await barrier(carol_tab)
    assert got(carol_tab, "presence") == []
    await leave(alice_tab)
    await leave(carol_tab)
