"""The social data layer's contract, one suite for every database backend."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chatapp.social.base import Database, UsernameTaken
from chatapp.social.models import User

DATABASE_KINDS = ["sqlite", "mongodb-pymongo", "mongodb-motor"]


@pytest.fixture(params=DATABASE_KINDS)
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    kind: str = request.param
    if kind == "sqlite":
        from chatapp.social.sqlite import SQLiteDatabase

        db: Database = SQLiteDatabase(tmp_path / "chatapp.sqlite3")
    else:
        from chatapp.backends import connect_mongodb
        from chatapp.social.mongodb import MongoDatabase

        client = connect_mongodb(request.getfixturevalue("mongodb_url"), kind.split("-")[1], 5)
        db = MongoDatabase(client[f"social_{uuid.uuid4().hex[:12]}"])
    await db.prepare()
    yield db
    await db.close()


async def make_users(db: Database, *names: str) -> list[User]:
    return [await db.create_user(name, name.title(), "hash") for name in names]


async def befriend(db: Database, a: User, b: User) -> None:
    await db.request_friendship(a.id, b.id)
    assert await db.request_friendship(b.id, a.id) == "friends"


async def test_usernames_are_unique_and_accounts_carry_the_hash(database: Database) -> None:
    alice = await database.create_user("alice", "Alice", "bcrypt-hash")
    with pytest.raises(UsernameTaken):
        await database.create_user("alice", "Other", "x")
    account = await database.account("alice")
    assert account is not None and account.user == alice and account.password_hash == "bcrypt-hash"
    assert await database.account("nobody") is None
    assert await database.user(alice.id) == alice
    for bad in ["999999", "abc", "", "-1", "1e3", "0"]:
        assert await database.user(bad) is None
    renamed = await database.rename(alice.id, "Alice A.")
    assert renamed is not None and renamed.display_name == "Alice A."
    await database.prepare()  # idempotent: nothing lost, nothing doubled
    assert await database.user(alice.id) == renamed
    assert [u.username for u in await database.search_users("alice", 5)] == ["alice"]
    assert await database.user(alice.id) == renamed


async def test_first_inserts_at_once_on_a_fresh_database_all_get_ids(database: Database) -> None:
    """Before: two sign-ups at once on a fresh MongoDB got None from the counter's upsert."""
    users = await asyncio.gather(*(database.create_user(f"u{i}", "U", "h") for i in range(10)))
    assert len({user.id for user in users}) == 10


async def test_two_databases_on_one_fresh_sqlite_file_prepare_together(tmp_path: Path) -> None:
    """Two processes starting at once on one file: the second waits for the first's schema."""
    from chatapp.social.sqlite import SQLiteDatabase

    first, second = (SQLiteDatabase(tmp_path / "shared.sqlite3") for _ in range(2))
    await asyncio.gather(first.prepare(), second.prepare())
    alice = await first.create_user("alice", "Alice", "h")
    assert await second.user(alice.id) == alice
    await first.close()
    await second.close()


async def test_a_sqlite_file_of_an_older_schema_keeps_its_notifications(tmp_path: Path) -> None:
    """Step 6 stores a notification once and a read mark per recipient: a file made
    before it keeps every copy, its read state, and the ids go on after the last."""
    import sqlite3

    from chatapp.social.sqlite import SQLiteDatabase
    from chatapp.social.sqlite_schema import MIGRATIONS

    path = tmp_path / "old.sqlite3"
    old = sqlite3.connect(path)
    for script in MIGRATIONS[:5]:
        for statement in filter(str.strip, script.split(";")):
            old.execute(statement)
    old.execute("PRAGMA user_version = 5")
    old.executemany(
        "INSERT INTO users (id, username, display_name, password_hash, created_at)"
        " VALUES (?, ?, ?, 'h', '2026-01-01T00:00:00+00:00')",
        [(1, "alice", "Alice"), (2, "bob", "Bob"), (3, "carol", "Carol")],
    )
    old.executemany(
        "INSERT INTO notifications (id, user_id, kind, actor_id, post_id, text, created_at, read)"
        " VALUES (?, ?, ?, 1, NULL, ?, '2026-01-02T00:00:00+00:00', ?)",
        [(7, 2, "post", None, 1), (7, 3, "post", None, 0), (8, 2, "message", "hi", 0)],
    )
    old.execute("INSERT INTO counters (name, value) VALUES ('notifications', 8)")
    old.commit()
    old.close()
    database = SQLiteDatabase(path)
    await database.prepare()
    listed, unread = await database.notifications("2", None, 10)
    assert [(n.id, n.kind, n.text, n.read) for n in listed] == [
        ("8", "message", "hi", False),
        ("7", "post", None, True),
    ]
    assert unread == 1 and listed[0].actor.username == "alice"
    assert (await database.notifications("3", None, 10))[1] == 1
    alice = await database.user("1")
    assert alice is not None
    newer = await database.notify(["3"], "post", alice)
    assert newer is not None and int(newer.id) > 8
    await database.close()


async def test_user_search_is_by_username_or_display_name_prefix(database: Database) -> None:
    await make_users(database, "anna", "annabel", "bob", "an_x", "anx")
    assert [u.username for u in await database.search_users("ann", 10)] == ["anna", "annabel"]
    assert [u.username for u in await database.search_users("an_", 10)] == ["an_x"]
    assert [u.username for u in await database.search_users("an%", 10)] == []
    assert [u.username for u in await database.search_users("an.", 10)] == []
    assert len(await database.search_users("", 3)) == 3
    await database.create_user("zz_1", "Liddell Alice", "h")
    await database.create_user("zz_2", "Éowyn (of Rohan)", "h")
    assert [u.username for u in await database.search_users("Lidd", 10)] == ["zz_1"]
    assert [u.username for u in await database.search_users("liddell a", 10)] == ["zz_1"]
    assert [u.username for u in await database.search_users("Éowyn (", 10)] == ["zz_2"]
    assert [u.username for u in await database.search_users("owyn", 10)] == []  # a prefix only


async def test_a_friendship_is_requested_then_accepted_then_ended(database: Database) -> None:
    alice, bob, carol = await make_users(database, "alice", "bob", "carol")
    assert await database.friendship(alice.id, bob.id) == "none"
    assert await database.request_friendship(alice.id, bob.id) == "requested"
    assert await database.request_friendship(alice.id, bob.id) == "requested"  # asking again
    assert await database.friendship(bob.id, alice.id) == "incoming"
    assert await database.related(bob.id, "incoming") == [alice]
    assert await database.related(alice.id, "requested") == [bob]
    assert await database.request_friendship(bob.id, alice.id) == "friends"
    assert await database.related(alice.id, "friends") == [bob]
    assert await database.friend_ids(bob.id) == [alice.id]
    assert await database.friendships(alice.id, [bob.id, carol.id]) == {
        bob.id: "friends",
        carol.id: "none",
    }
    assert await database.end_friendship(bob.id, alice.id) == "friends"
    assert await database.friendship(alice.id, bob.id) == "none"
    assert await database.end_friendship(bob.id, alice.id) == "none"


async def test_two_users_asking_each_other_at_once_become_friends(database: Database) -> None:
    alice, bob = await make_users(database, "alice", "bob")
    await asyncio.gather(
        database.request_friendship(alice.id, bob.id), database.request_friendship(bob.id, alice.id)
    )
    assert await database.friendship(alice.id, bob.id) == "friends"


async def test_the_feed_holds_own_and_friends_posts_newest_first(database: Database) -> None:
    alice, bob, stranger = await make_users(database, "alice", "bob", "stranger")
    await befriend(database, alice, bob)
    posted = [
        (await database.create_post(author.id, f"post {i}"))[0]
        for i, author in enumerate([alice, bob, stranger, alice, bob])
    ]
    feed = await database.feed(alice.id, None, 20)
    assert [p.text for p in feed] == ["post 4", "post 3", "post 1", "post 0"]
    assert feed[0].author == bob and feed[0].comment_count == 0
    assert [p.text for p in await database.feed(stranger.id, None, 20)] == ["post 2"]
    assert posted[0].created_at <= posted[-1].created_at


async def test_pages_never_skip_or_repeat_when_posts_arrive_between_them(
    database: Database,
) -> None:
    (alice,) = await make_users(database, "alice")
    for i in range(7):
        await database.create_post(alice.id, f"p{i}")
    first = await database.feed(alice.id, None, 3)
    await database.create_post(alice.id, "newer")
    second = await database.feed(alice.id, first[-1].id, 3)
    third = await database.feed(alice.id, second[-1].id, 3)
    seen = [p.text for p in first + second + third]
    assert seen == ["p6", "p5", "p4", "p3", "p2", "p1", "p0"]
    assert await database.feed(alice.id, third[-1].id, 3) == []
    assert await database.feed(alice.id, "not-a-cursor", 3) != []  # treated as "from the top"


async def test_a_post_and_its_comments_are_seen_by_author_and_friends_only(
    database: Database,
) -> None:
    alice, bob, stranger = await make_users(database, "alice", "bob", "stranger")
    await befriend(database, alice, bob)
    post, _ = await database.create_post(alice.id, "hello")
    assert await database.visible_post(post.id, bob.id) is not None
    assert await database.visible_post(post.id, stranger.id) is None
    assert await database.visible_post("424242", alice.id) is None
    comment = await database.add_comment(post.id, bob.id, "hi!")
    assert comment is not None and comment.post_id == post.id and comment.author == bob
    assert await database.add_comment(post.id, stranger.id, "let me in") is None
    assert await database.add_comment("424242", bob.id, "nothing there") is None
    assert [c.text for c in await database.comments(post.id, alice.id)] == ["hi!"]
    assert await database.comments(post.id, stranger.id) == []
    seen = await database.visible_post(post.id, alice.id)
    assert seen is not None and seen.comment_count == 1
    await database.end_friendship(alice.id, bob.id)
    assert await database.visible_post(post.id, bob.id) is None


async def test_one_notification_for_many_users_shares_its_id(database: Database) -> None:
    alice, bob, carol = await make_users(database, "alice", "bob", "carol")
    post, _ = await database.create_post(alice.id, "news")
    shared = await database.notify([bob.id, carol.id], "post", alice, post_id=post.id)
    assert shared is not None and shared.actor == alice and shared.post_id == post.id
    assert await database.notify([], "post", alice) is None
    later = await database.notify([bob.id], "message", alice, text="psst")
    assert later is not None
    for user in (bob, carol):
        listed, _ = await database.notifications(user.id, None, 50)
        assert shared.id in [n.id for n in listed]
        assert {n.actor for n in listed} == {alice}  # the actor, not the recipient
    listed, unread = await database.notifications(bob.id, None, 50)
    assert [n.id for n in listed] == [later.id, shared.id]
    assert unread == 2 and listed[0].text == "psst"
    await database.mark_read(bob.id, [shared.id])
    assert (await database.notifications(bob.id, None, 50))[1] == 1
    assert (await database.notifications(carol.id, None, 50))[1] == 1  # carol's copy untouched
    await database.mark_read(bob.id, None)
    listed, unread = await database.notifications(bob.id, None, 50)
    assert unread == 0 and all(n.read for n in listed)
    await database.mark_read(carol.id, ["junk", "999999", later.id])  # none of them carol's
    listed, unread = await database.notifications(carol.id, None, 50)
    assert unread == 1 and [n.read for n in listed] == [False]


async def test_a_post_notifies_exactly_the_friends_of_its_author(database: Database) -> None:
    alice, bob, carol, dave = await make_users(database, "alice", "bob", "carol", "dave")
    alone = await database.publish_post(alice, "no friend yet")
    assert alone.created and (alone.friends, alone.notification) == ([], None)
    await befriend(database, alice, bob)
    await befriend(database, carol, alice)  # either side may have asked
    await database.request_friendship(alice.id, dave.id)  # asked, not accepted
    published = await database.publish_post(alice, "news", "key-1")
    post, made = published.post, published.notification
    assert published.created and post.text == "news" and post.author == alice
    assert sorted(published.friends) == sorted([bob.id, carol.id])
    assert made is not None and made.actor == alice and made.post_id == post.id
    again = await database.publish_post(alice, "news", "key-1")  # a retry: nothing new
    assert (again.post.id, again.created, again.friends, again.notification) == (
        post.id,
        False,
        [],
        None,
    )
    for user, expected in ((bob, [made.id]), (carol, [made.id]), (dave, []), (alice, [])):
        listed, unread = await database.notifications(user.id, None, 50)
        assert [n.id for n in listed] == expected and unread == len(expected)


async def test_a_posts_notification_goes_to_the_friends_of_the_moment_it_was_made(
    database: Database,
) -> None:
    """Whoever was a friend when the post was made keeps its notification (unfriended
    later, before or after reading); whoever became one later does not get it."""
    alice, bob, carol, dave = await make_users(database, "alice", "bob", "carol", "dave")
    await befriend(database, alice, bob)
    await befriend(database, alice, carol)
    first = (await database.publish_post(alice, "first")).notification
    assert first is not None
    assert [n.id for n in (await database.notifications(carol.id, None, 10))[0]] == [first.id]
    await database.end_friendship(alice.id, bob.id)  # bob never looked
    await database.end_friendship(carol.id, alice.id)  # carol did
    await befriend(database, dave, alice)  # a friend since the post
    second = (await database.publish_post(alice, "second")).notification
    assert second is not None
    for user, expected in ((bob, [first.id]), (carol, [first.id]), (dave, [second.id])):
        listed, unread = await database.notifications(user.id, None, 10)
        assert ([n.id for n in listed], unread) == (expected, 1)
    await database.mark_read(dave.id, None)
    third = (await database.publish_post(alice, "third")).notification
    assert third is not None
    assert (await database.notifications(dave.id, None, 10))[1] == 1
    await database.mark_read(dave.id, [third.id])
    listed, unread = await database.notifications(dave.id, None, 10)
    assert unread == 0 and [n.read for n in listed] == [True, True]


async def test_reading_a_conversation_leaves_an_unseen_post_unread(database: Database) -> None:
    alice, bob, carol = await make_users(database, "alice", "bob", "carol")
    await befriend(database, alice, bob)
    post = (await database.publish_post(alice, "news")).notification
    message = await database.notify([bob.id], "message", carol, text="hi")
    assert post is not None and message is not None
    await database.mark_conversation_read(bob.id, carol.id)  # moves bob's read-through mark
    listed, unread = await database.notifications(bob.id, None, 10)
    assert [(n.id, n.read) for n in listed] == [(message.id, True), (post.id, False)]
    assert unread == 1


async def test_a_post_key_makes_one_post_whatever_the_repeats(database: Database) -> None:
    alice, bob = await make_users(database, "alice", "bob")
    made = await asyncio.gather(*(database.create_post(alice.id, "once", "k-1") for _ in range(5)))
    assert len({post.id for post, _ in made}) == 1
    assert sorted(created for _, created in made) == [False] * 4 + [True]
    other, created = await database.create_post(bob.id, "mine", "k-1")  # keys are per user
    assert created and other.id != made[0][0].id
    assert len(await database.feed(alice.id, None, 10)) == 1


async def test_conversations_list_the_last_message_and_what_is_unread(database: Database) -> None:
    alice, bob, carol = await make_users(database, "alice", "bob", "carol")
    await database.send_message(bob.id, alice.id, "hi alice")
    await database.send_message(bob.id, alice.id, "are you there?")
    await database.send_message(alice.id, carol.id, "hello carol")
    await database.notify([alice.id], "message", bob, text="are you there?")
    listed = await database.conversations(alice.id)
    assert [(m.text, unread) for m, unread in listed] == [("hello carol", 0), ("are you there?", 2)]
    await database.mark_conversation_read(alice.id, bob.id)
    assert [unread for _, unread in await database.conversations(alice.id)] == [0, 0]
    assert (await database.notifications(alice.id, None, 10))[1] == 0  # its notification too
    await database.send_message(bob.id, alice.id, "tea?")
    listed = await database.conversations(alice.id)
    assert [(m.text, unread) for m, unread in listed] == [("tea?", 1), ("hello carol", 0)]
    assert [(m.text, unread) for m, unread in await database.conversations(bob.id)] == [("tea?", 0)]


async def test_notifications_page_by_cursor_and_count_all_unread(database: Database) -> None:
    alice, bob = await make_users(database, "alice", "bob")
    for _ in range(5):
        await database.notify([bob.id], "post", alice)
    first, unread = await database.notifications(bob.id, None, 3)
    second, again = await database.notifications(bob.id, first[-1].id, 3)
    assert (len(first), len(second), unread, again) == (3, 2, 5, 5)
    assert [int(n.id) for n in first + second] == sorted(
        (int(n.id) for n in first + second), reverse=True
    )


async def test_unread_counts_hold_whatever_order_things_are_read_in(database: Database) -> None:
    """Individual marks out of order, a conversation's, all at once, then new ones: the
    count is always the unread ones (SQLite counts from a read-through mark it moves)."""
    alice, bob, carol = await make_users(database, "alice", "bob", "carol")
    made = [await database.notify([bob.id], "post", alice) for _ in range(5)]
    ids = [n.id for n in made if n is not None]

    async def unread() -> int:
        return (await database.notifications(bob.id, None, 100))[1]

    await database.mark_read(bob.id, [ids[1], ids[3]])
    assert await unread() == 3
    await database.mark_read(bob.id, [ids[0]])
    assert await unread() == 2
    from_carol = await database.notify([bob.id], "message", carol, text="hi")
    await database.notify([bob.id], "message", alice, text="hello")
    await database.mark_conversation_read(bob.id, carol.id)  # carol's message only
    assert await unread() == 3
    listed, _ = await database.notifications(bob.id, None, 100)
    assert [n.read for n in listed] == [False, True, False, True, False, True, True]
    assert from_carol is not None and listed[1].id == from_carol.id
    await database.mark_read(bob.id, [ids[2], ids[4]])
    assert await unread() == 1
    await database.mark_read(bob.id, None)
    assert await unread() == 0
    await database.notify([bob.id], "post", alice)
    assert await unread() == 1


async def test_ending_a_friendship_can_require_the_state_it_is_in(database: Database) -> None:
    alice, bob = await make_users(database, "alice", "bob")
    await database.request_friendship(alice.id, bob.id)
    # Alice sees "requested"; bob sees "incoming". A stale "friends" ends nothing.
    assert await database.end_friendship(alice.id, bob.id, "friends") == "requested"
    assert await database.end_friendship(bob.id, alice.id, "requested") == "incoming"
    assert await database.friendship(alice.id, bob.id) == "requested"
    assert await database.request_friendship(bob.id, alice.id) == "friends"
    assert await database.end_friendship(alice.id, bob.id, "requested") == "friends"
    assert await database.friendship(alice.id, bob.id) == "friends"
    assert await database.end_friendship(alice.id, bob.id, "friends") == "friends"
    assert await database.friendship(alice.id, bob.id) == "none"
    assert await database.end_friendship(alice.id, bob.id, "friends") == "none"


async def test_messages_between_two_users_page_newest_first(database: Database) -> None:
    alice, bob, carol = await make_users(database, "alice", "bob", "carol")
    for i in range(5):
        sender, recipient = (alice, bob) if i % 2 == 0 else (bob, alice)
        sent = await database.send_message(sender.id, recipient.id, f"m{i}")
        assert sent.sender == sender and sent.recipient == recipient
    await database.send_message(alice.id, carol.id, "elsewhere")
    page = await database.messages(bob.id, alice.id, None, 3)
    assert [m.text for m in page] == ["m4", "m3", "m2"]
    rest = await database.messages(alice.id, bob.id, page[-1].id, 3)
    assert [m.text for m in rest] == ["m1", "m0"]


async def test_a_room_is_its_members_and_nobody_elses(database: Database) -> None:
    ann, bob, cid, dan = await make_users(database, "ann", "bob", "cid", "dan")
    room = await database.create_room(ann.id, "Trip", [bob.id, cid.id, bob.id])
    assert room.name == "Trip" and room.owner == ann
    assert [m.username for m in room.members] == ["ann", "bob", "cid"]  # the owner, once each
    seen_by_bob = await database.room(room.id, bob.id)
    assert seen_by_bob is not None and seen_by_bob.public() == room.public()
    for outsider in (dan.id, "999999", "nonsense"):
        assert await database.room(room.id, outsider) is None
    assert await database.room("999999", ann.id) is None
    assert await database.room_messages(room.id, dan.id, None, 10) is None
    assert await database.send_room_message(room.id, dan.id, "let me in") is None
    assert await database.send_room_message("999999", ann.id, "nowhere") is None

    first = await database.send_room_message(room.id, bob.id, "hello")
    assert first is not None and first.sender == bob and first.room_id == room.id
    assert await database.add_room_member(room.id, dan.id) is True
    assert await database.add_room_member(room.id, dan.id) is True  # already one: no change
    assert await database.add_room_member("999999", dan.id) is False
    second = await database.send_room_message(room.id, dan.id, "hi all")
    assert second is not None
    assert [m.text for m in await database.room_messages(room.id, ann.id, None, 10) or []] == [
        "hi all",
        "hello",
    ]
    assert await database.remove_room_member(room.id, dan.id) is True
    assert await database.remove_room_member(room.id, dan.id) is False
    assert await database.room(room.id, dan.id) is None
    assert await database.send_room_message(room.id, dan.id, "still here?") is None
    assert await database.mark_room_read(room.id, dan.id) is False


async def test_room_history_pages_newest_first_without_gaps(database: Database) -> None:
    ann, bob = await make_users(database, "ann", "bob")
    room = await database.create_room(ann.id, "Pages", [bob.id])
    sent = [await database.send_room_message(room.id, ann.id, f"m{n}") for n in range(7)]
    seen: list[str] = []
    before = None
    while page := await database.room_messages(room.id, bob.id, before, 3):
        seen += [m.text for m in page]
        before = page[-1].id
    assert seen == [f"m{n}" for n in reversed(range(7))]
    assert [m.id for m in sent if m] == sorted((m.id for m in sent if m), key=int)


async def test_a_members_rooms_list_by_activity_with_unread_counts(database: Database) -> None:
    ann, bob, cid = await make_users(database, "ann", "bob", "cid")
    quiet = await database.create_room(ann.id, "Quiet", [bob.id])
    busy = await database.create_room(ann.id, "Busy", [bob.id, cid.id])
    assert [s.room.name for s in await database.rooms(bob.id)] == ["Busy", "Quiet"]
    await database.send_room_message(quiet.id, ann.id, "one")
    await database.send_room_message(quiet.id, ann.id, "two")
    await database.send_room_message(quiet.id, bob.id, "mine")  # one's own: never unread
    listed = await database.rooms(bob.id)
    assert [(s.room.name, s.unread) for s in listed] == [("Quiet", 2), ("Busy", 0)]
    assert listed[0].last_message is not None and listed[0].last_message.text == "mine"
    assert listed[1].last_message is None
    assert await database.mark_room_read(quiet.id, bob.id) is True
    assert [s.unread for s in await database.rooms(bob.id)] == [0, 0]
    assert [s.room.name for s in await database.rooms(cid.id)] == ["Busy"]
    assert sorted(await database.room_ids(bob.id), key=int) == [quiet.id, busy.id]
    assert await database.room_ids("nonsense") == []
    await database.add_room_member(quiet.id, cid.id)  # joins with the past read
    assert {s.room.name: s.unread for s in await database.rooms(cid.id)} == {"Quiet": 0, "Busy": 0}
    await database.send_room_message(quiet.id, ann.id, "three")
    assert {s.room.name: s.unread for s in await database.rooms(cid.id)}["Quiet"] == 1
    assert await database.rooms("nonsense") == []


async def test_an_author_changes_what_they_wrote_in_place(database: Database) -> None:
    ann, bob, cid = await make_users(database, "ann", "bob", "cid")
    await befriend(database, ann, bob)
    post, _ = await database.create_post(ann.id, "a post")
    comment = await database.add_comment(post.id, bob.id, "first")
    message = await database.send_message(ann.id, bob.id, "hi bob")
    room = await database.create_room(ann.id, "Room", [bob.id])
    said = await database.send_room_message(room.id, bob.id, "hi room")
    assert comment is not None and said is not None
    assert await database.comment(post.id, comment.id, cid.id) is None  # cid cannot see it
    assert await database.comment("999999", comment.id, ann.id) is None
    assert await database.message(ann.id, cid.id, message.id) is None  # not their pair
    assert await database.room_message(room.id, said.id, cid.id) is None  # not a member

    await database.change("comments", comment.id, "first, edited")
    await database.change("messages", message.id, None)
    await database.change("room_messages", said.id, "hi all")
    edited = await database.comment(post.id, comment.id, ann.id)
    assert edited is not None and edited.text == "first, edited"
    assert edited.change.edited_at is not None and not edited.change.deleted
    assert edited.public()["edited_at"].endswith("Z")
    gone = await database.message(bob.id, ann.id, message.id)
    assert gone is not None and gone.public()["deleted"] is True and gone.public()["text"] == ""
    ((listed, _),) = [(m, 0) for m in await database.messages(ann.id, bob.id, None, 5)]
    assert listed.public()["deleted"] is True  # it keeps its place in the history
    in_room = await database.room_message(room.id, said.id, ann.id)
    assert in_room is not None and in_room.text == "hi all"
    assert [c.text for c in await database.comments(post.id, bob.id)] == ["first, edited"]
