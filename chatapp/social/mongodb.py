"""The social data in MongoDB (`[database] url = mongodb://HOST:PORT/DBNAME`).

The same driver choice as the session store (`[mongodb] driver`): the code
is handed a database object and uses only calls both drivers share. Ids come
from one counter document per kind, so they are the same decimal sequence as
in SQLite. A friendship is one document per pair, so a request, an accept and
an unfriend are each a single atomic write, with no transaction needed on a
standalone mongod.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.errors import ConnectionFailure, DuplicateKeyError, PyMongoError

from chatapp.errors import ServiceUnavailable
from chatapp.social.base import KEY_LIFETIME, Database, Editable, UsernameTaken
from chatapp.social.ids import cursor_bound, friendship_state, ordered_pair, pair_key, parse_id
from chatapp.social.models import (
    Account,
    Change,
    Comment,
    Message,
    Notification,
    Post,
    Room,
    RoomMessage,
    RoomSummary,
    User,
)
from chatapp.times import now

SCHEMA_VERSION = 1
_KEY_AGE = dt.timedelta(seconds=KEY_LIFETIME)


@contextmanager
def unavailable_on_network_errors() -> Iterator[None]:
    """The driver's "no answer" errors as chatapp's own 503 error; others pass through."""
    try:
        yield
    except PyMongoError as exc:
        if isinstance(exc, ConnectionFailure) or getattr(exc, "timeout", False):
            raise ServiceUnavailable(f"MongoDB did not answer ({type(exc).__name__})") from exc
        raise


class MongoDatabase(Database):
    name = "mongodb"

    def __init__(self, database: Any) -> None:
        """`database`: a PyMongo AsyncDatabase or a Motor database, its client with timeouts."""
        self.db = database

    async def prepare(self) -> None:
        with unavailable_on_network_errors():
            await self.db.users.create_index("username", unique=True)
            await self.db.friendships.create_index("users")
            await self.db.posts.create_index([("author_id", ASCENDING), ("_id", DESCENDING)])
            await self.db.comments.create_index([("post_id", ASCENDING), ("_id", ASCENDING)])
            await self.db.notifications.create_index(
                [("user_id", ASCENDING), ("id", DESCENDING)], unique=True
            )
            await self.db.notifications.create_index([("user_id", ASCENDING), ("read", ASCENDING)])
            await self.db.messages.create_index([("pair", ASCENDING), ("_id", DESCENDING)])
            await self.db.messages.create_index([("sender_id", ASCENDING), ("_id", DESCENDING)])
            await self.db.messages.create_index([("recipient_id", ASCENDING), ("_id", DESCENDING)])
            await self.db.post_keys.create_index("created_at", expireAfterSeconds=KEY_LIFETIME)
            await self.db.rooms.create_index([("members", ASCENDING), ("activity", DESCENDING)])
            await self.db.room_messages.create_index([("room_id", ASCENDING), ("_id", DESCENDING)])
            await self.db.meta.update_one(
                {"_id": "schema"}, {"$max": {"version": SCHEMA_VERSION}}, upsert=True
            )

    async def ping(self) -> None:
        with unavailable_on_network_errors():
            await self.db.client.admin.command("ping")

    async def close(self) -> None:
        result = self.db.client.close()
        if result is not None:  # PyMongo's async close() is a coroutine, Motor's is not
            await result

    # -- accounts -------------------------------------------------------------------------

    async def create_user(self, username: str, display_name: str, password_hash: str) -> User:
        with unavailable_on_network_errors():
            user_id = await self._next("users")
            try:
                await self.db.users.insert_one(
                    {
                        "_id": user_id,
                        "username": username,
                        "display_name": display_name,
                        "password_hash": password_hash,
                        "created_at": now(),
                    }
                )
            except DuplicateKeyError:
                raise UsernameTaken(username) from None
        return User(str(user_id), username, display_name)

    async def account(self, username: str) -> Account | None:
        with unavailable_on_network_errors():
            doc = await self.db.users.find_one({"username": username})
        return None if doc is None else Account(_user(doc), doc["password_hash"])

    async def user(self, user_id: str) -> User | None:
        return (await self._users([user_id])).get(user_id)

    async def rename(self, user_id: str, display_name: str) -> User | None:
        with unavailable_on_network_errors():
            doc = await self.db.users.find_one_and_update(
                {"_id": parse_id(user_id)},
                {"$set": {"display_name": display_name}},
                return_document=ReturnDocument.AFTER,
            )
        return None if doc is None else _user(doc)

    async def set_password_hash(self, user_id: str, password_hash: str) -> None:
        with unavailable_on_network_errors():
            await self.db.users.update_one(
                {"_id": parse_id(user_id)}, {"$set": {"password_hash": password_hash}}
            )

    async def search_users(self, prefix: str, limit: int) -> list[User]:
        with unavailable_on_network_errors():
            starts = "^" + re.escape(prefix)
            cursor = self.db.users.find(
                {
                    "$or": [
                        {"username": {"$regex": starts}},
                        {"display_name": {"$regex": starts, "$options": "i"}},
                    ]
                }
            )
            docs = await cursor.sort("username", ASCENDING).limit(limit).to_list(None)
        return [_user(doc) for doc in docs]

    # -- friendships ----------------------------------------------------------------------

    async def friendship(self, user_id: str, other_id: str) -> str:
        return (await self.friendships(user_id, [other_id]))[other_id]

    async def friendships(self, user_id: str, others: Iterable[str]) -> dict[str, str]:
        me = parse_id(user_id)
        states = {str(other): state for other, state in await self._relations(me)}
        return {other: states.get(other, "none") for other in others}

    async def request_friendship(self, user_id: str, other_id: str) -> str:
        me = parse_id(user_id)
        low, high = ordered_pair(user_id, other_id)
        key = pair_key(user_id, other_id)
        with unavailable_on_network_errors():
            try:
                await self.db.friendships.insert_one(
                    {
                        "_id": key,
                        "users": [low, high],
                        "requester": me,
                        "state": "pending",
                    }
                )
                return "requested"
            except DuplicateKeyError:
                # The pair exists: if the other asked first, this accepts.
                await self.db.friendships.update_one(
                    {"_id": key, "requester": {"$ne": me}}, {"$set": {"state": "friends"}}
                )
            doc = await self.db.friendships.find_one({"_id": key})
        return "none" if doc is None else _state(doc, me)

    async def end_friendship(self, user_id: str, other_id: str, expect: str | None = None) -> str:
        me = parse_id(user_id)
        match: dict[str, Any] = {"_id": pair_key(user_id, other_id)}
        if expect == "friends":
            match["state"] = "friends"
        elif expect in ("requested", "incoming"):  # who asked decides which of the two it is
            asker = me if expect == "requested" else parse_id(other_id)
            match.update(state="pending", requester=asker)
        with unavailable_on_network_errors():
            doc = await self.db.friendships.find_one_and_delete(match)
            if doc is None and expect is not None:
                doc = await self.db.friendships.find_one({"_id": match["_id"]})
        return "none" if doc is None else _state(doc, me)

    async def related(self, user_id: str, state: str) -> list[User]:
        ids = [other for other, found in await self._relations(parse_id(user_id)) if found == state]
        users = await self._users(str(i) for i in ids)
        return sorted(users.values(), key=lambda u: u.username)

    async def friend_ids(self, user_id: str) -> list[str]:
        return [
            str(o) for o, state in await self._relations(parse_id(user_id)) if state == "friends"
        ]

    async def _relations(self, me: int | None) -> list[tuple[int, str]]:
        with unavailable_on_network_errors():
            # One multikey-indexed field, not an $or of two: one index lookup on any server.
            docs = await self.db.friendships.find({"users": me}).to_list(None)
        return [(_other(doc["users"], me), _state(doc, me)) for doc in docs]

    # -- posts and comments -------------------------------------------------------------------

    async def create_post(
        self, author_id: str, text: str, key: str | None = None
    ) -> tuple[Post, bool]:
        author = parse_id(author_id)
        with unavailable_on_network_errors():
            post_id = await self._next("posts")
            doc: dict[str, Any] = {
                "_id": post_id,
                "author_id": author,
                "text": text,
                "created_at": now(),
                "comment_count": 0,
            }
            await self.db.posts.insert_one(doc)
            if key is not None:
                # Inserted first, then the key claimed: a claimed post always exists, and
                # a repeat that lost the claim takes its own post back.
                claimed = await self._claim_key(f"{author}:{key}", post_id)
                if claimed != post_id:
                    await self.db.posts.delete_one({"_id": post_id})
                    docs = await self.db.posts.find({"_id": claimed}).to_list(None)
                    return (await self._posts(docs))[0], False
        return (await self._posts([doc]))[0], True

    async def _claim_key(self, key_id: str, post_id: int) -> int:
        """The post a key names: `post_id` if this call claimed it (new, or expired).

        The claim is an insert on the key's unique _id: of repeats at once, one wins.
        """
        for _ in range(5):
            try:
                await self.db.post_keys.insert_one(
                    {"_id": key_id, "post_id": post_id, "created_at": now()}
                )
                return post_id
            except DuplicateKeyError:
                pass
            expired = {"_id": key_id, "created_at": {"$lte": now() - _KEY_AGE}}
            renewed = {"$set": {"post_id": post_id, "created_at": now()}}
            if await self.db.post_keys.find_one_and_update(expired, renewed) is not None:
                return post_id
            held = await self.db.post_keys.find_one({"_id": key_id})
            if held is not None:
                return int(held["post_id"])
        raise ServiceUnavailable(f"MongoDB: the post key {key_id!r} could not be claimed")

    async def feed(self, viewer_id: str, before: str | None, limit: int) -> list[Post]:
        authors = [parse_id(viewer_id), *map(parse_id, await self.friend_ids(viewer_id))]
        with unavailable_on_network_errors():
            docs = (
                await self.db.posts.find(
                    {"author_id": {"$in": authors}, "_id": {"$lt": cursor_bound(before)}}
                )
                .sort("_id", DESCENDING)
                .limit(limit)
                .to_list(None)
            )
        return await self._posts(docs)

    async def visible_post(self, post_id: str, viewer_id: str) -> Post | None:
        doc = await self._visible_post_doc(post_id, viewer_id)
        return None if doc is None else (await self._posts([doc]))[0]

    async def add_comment(self, post_id: str, author_id: str, text: str) -> Comment | None:
        if await self._visible_post_doc(post_id, author_id) is None:
            return None
        with unavailable_on_network_errors():
            comment_id = await self._next("comments")
            doc = {
                "_id": comment_id,
                "post_id": parse_id(post_id),
                "author_id": parse_id(author_id),
                "text": text,
                "created_at": now(),
            }
            await self.db.comments.insert_one(doc)
            await self.db.posts.update_one(
                {"_id": parse_id(post_id)}, {"$inc": {"comment_count": 1}}
            )
        return (await self._comments([doc]))[0]

    async def comments(self, post_id: str, viewer_id: str) -> list[Comment]:
        if await self._visible_post_doc(post_id, viewer_id) is None:
            return []
        with unavailable_on_network_errors():
            docs = (
                await self.db.comments.find({"post_id": parse_id(post_id)})
                .sort("_id", ASCENDING)
                .to_list(None)
            )
        return await self._comments(docs)

    async def _visible_post_doc(self, post_id: str, viewer_id: str) -> dict[str, Any] | None:
        with unavailable_on_network_errors():
            doc = await self.db.posts.find_one({"_id": parse_id(post_id)})
        if doc is None:
            return None
        author = str(doc["author_id"])
        if author == viewer_id or await self.friendship(viewer_id, author) == "friends":
            return doc  # type: ignore[no-any-return]
        return None

    # -- notifications ----------------------------------------------------------------------

    async def _store_notification(self, recipients: list[int | None], made: Notification) -> int:
        with unavailable_on_network_errors():
            number = await self._next("notifications")
            await self.db.notifications.insert_many(
                [
                    {
                        "id": number,
                        "user_id": user,
                        "kind": made.kind,
                        "actor_id": parse_id(made.actor.id),
                        "post_id": parse_id(made.post_id),
                        "text": made.text,
                        "room_id": parse_id(made.room_id),
                        "created_at": made.created_at,
                        "read": False,
                    }
                    for user in recipients
                ]
            )
        return number

    async def notifications(
        self, user_id: str, before: str | None, limit: int
    ) -> tuple[list[Notification], int]:
        me = parse_id(user_id)
        with unavailable_on_network_errors():
            docs = (
                await self.db.notifications.find(
                    {"user_id": me, "id": {"$lt": cursor_bound(before)}}
                )
                .sort("id", DESCENDING)
                .limit(limit)
                .to_list(None)
            )
            unread = await self.db.notifications.count_documents({"user_id": me, "read": False})
        actors = await self._users(str(doc["actor_id"]) for doc in docs)
        return [
            Notification(
                str(doc["id"]),
                doc["kind"],
                actors[str(doc["actor_id"])],
                doc["created_at"],
                doc["read"],
                None if doc["post_id"] is None else str(doc["post_id"]),
                doc["text"],
                None if doc.get("room_id") is None else str(doc["room_id"]),
            )
            for doc in docs
        ], unread

    async def mark_read(self, user_id: str, ids: Iterable[str] | None) -> None:
        query: dict[str, Any] = {"user_id": parse_id(user_id), "read": False}
        if ids is not None:
            query["id"] = {"$in": [parse_id(i) for i in ids]}
        with unavailable_on_network_errors():
            await self.db.notifications.update_many(query, {"$set": {"read": True}})

    # -- messages -------------------------------------------------------------------------

    async def send_message(self, sender_id: str, recipient_id: str, text: str) -> Message:
        with unavailable_on_network_errors():
            doc = {
                "_id": await self._next("messages"),
                "pair": pair_key(sender_id, recipient_id),
                "sender_id": parse_id(sender_id),
                "recipient_id": parse_id(recipient_id),
                "text": text,
                "created_at": now(),
            }
            await self.db.messages.insert_one(doc)
        return (await self._messages([doc]))[0]

    async def messages(
        self, user_id: str, other_id: str, before: str | None, limit: int
    ) -> list[Message]:
        with unavailable_on_network_errors():
            docs = (
                await self.db.messages.find(
                    {"pair": pair_key(user_id, other_id), "_id": {"$lt": cursor_bound(before)}}
                )
                .sort("_id", DESCENDING)
                .limit(limit)
                .to_list(None)
            )
        return await self._messages(docs)

    async def conversations(self, user_id: str) -> list[tuple[Message, int]]:
        me = parse_id(user_id)
        mine = {"$or": [{"sender_id": me}, {"recipient_id": me}]}
        found: list[tuple[dict[str, Any], int]] = []
        with unavailable_on_network_errors():
            for pair in await self.db.messages.distinct("pair", mine):
                last = await self.db.messages.find_one({"pair": pair}, sort=[("_id", DESCENDING)])
                other = last["sender_id"] if last["sender_id"] != me else last["recipient_id"]
                read = await self.db.conversation_reads.find_one({"_id": f"{me}:{other}"})
                since = read["last_read"] if read else 0
                unread = await self.db.messages.count_documents(
                    {"pair": pair, "sender_id": other, "_id": {"$gt": since}}
                )
                found.append((last, unread))
        found.sort(key=lambda item: item[0]["_id"], reverse=True)
        messages = await self._messages([doc for doc, _ in found])
        return [(message, unread) for message, (_, unread) in zip(messages, found, strict=True)]

    async def mark_conversation_read(self, user_id: str, other_id: str) -> None:
        me, other = parse_id(user_id), parse_id(other_id)
        with unavailable_on_network_errors():
            last = await self.db.messages.find_one(
                {"pair": pair_key(user_id, other_id)}, sort=[("_id", DESCENDING)]
            )
            await self.db.conversation_reads.update_one(
                {"_id": f"{me}:{other}"},
                {"$max": {"last_read": last["_id"] if last else 0}},
                upsert=True,
            )
            await self.db.notifications.update_many(
                {"user_id": me, "kind": "message", "actor_id": other, "read": False},
                {"$set": {"read": True}},
            )

    # -- rooms -------------------------------------------------------------------------------

    async def create_room(self, owner_id: str, name: str, member_ids: Iterable[str]) -> Room:
        owner = parse_id(owner_id)
        members = sorted({m for m in (owner, *map(parse_id, member_ids)) if m is not None})
        with unavailable_on_network_errors():
            doc = {
                "_id": await self._next("rooms"),
                "name": name,
                "owner_id": owner,
                "members": members,
                "created_at": now(),
                "activity": await self._next("room_activity"),
            }
            await self.db.rooms.insert_one(doc)
        return (await self._rooms([doc]))[0]

    async def room(self, room_id: str, viewer_id: str) -> Room | None:
        with unavailable_on_network_errors():
            doc = await self.db.rooms.find_one(
                {"_id": parse_id(room_id), "members": parse_id(viewer_id)}
            )
        return None if doc is None else (await self._rooms([doc]))[0]

    async def rooms(self, user_id: str) -> list[RoomSummary]:
        me = parse_id(user_id)
        summaries: list[tuple[dict[str, Any], dict[str, Any] | None, int]] = []
        with unavailable_on_network_errors():
            docs = (
                await self.db.rooms.find({"members": me}).sort("activity", DESCENDING).to_list(None)
            )
            for doc in docs:
                last = await self.db.room_messages.find_one(
                    {"room_id": doc["_id"]}, sort=[("_id", DESCENDING)]
                )
                read = await self.db.room_reads.find_one({"_id": f"{doc['_id']}:{me}"})
                unread = await self.db.room_messages.count_documents(
                    {
                        "room_id": doc["_id"],
                        "sender_id": {"$ne": me},
                        "deleted": {"$ne": True},
                        "_id": {"$gt": read["last_read"] if read else 0},
                    }
                )
                summaries.append((doc, last, unread))
        rooms = await self._rooms([doc for doc, _, _ in summaries])
        lasts = {
            m.id: m for m in await self._room_messages([last for _, last, _ in summaries if last])
        }
        return [
            RoomSummary(room, lasts.get(str(last["_id"])) if last else None, unread)
            for room, (_, last, unread) in zip(rooms, summaries, strict=True)
        ]

    async def room_ids(self, user_id: str) -> list[str]:
        with unavailable_on_network_errors():
            docs = await self.db.rooms.find({"members": parse_id(user_id)}, {"_id": 1}).to_list(
                None
            )
        return [str(doc["_id"]) for doc in docs]

    async def add_room_member(self, room_id: str, user_id: str) -> bool:
        room, user = parse_id(room_id), parse_id(user_id)
        with unavailable_on_network_errors():
            added = await self.db.rooms.update_one({"_id": room}, {"$addToSet": {"members": user}})
            if not added.matched_count:
                return False
            if added.modified_count:  # a new member has read nothing from before
                await self._read_to_last(room, user)
        return True

    async def remove_room_member(self, room_id: str, user_id: str) -> bool:
        with unavailable_on_network_errors():
            removed = await self.db.rooms.update_one(
                {"_id": parse_id(room_id)}, {"$pull": {"members": parse_id(user_id)}}
            )
        return bool(removed.modified_count)

    async def send_room_message(
        self, room_id: str, sender_id: str, text: str
    ) -> RoomMessage | None:
        room, sender = parse_id(room_id), parse_id(sender_id)
        with unavailable_on_network_errors():
            # The membership check and the room's activity are one write.
            active = await self.db.rooms.find_one_and_update(
                {"_id": room, "members": sender},
                {"$set": {"activity": await self._next("room_activity")}},
            )
            if active is None:
                return None
            doc = {
                "_id": await self._next("room_messages"),
                "room_id": room,
                "sender_id": sender,
                "text": text,
                "created_at": now(),
            }
            await self.db.room_messages.insert_one(doc)
        return (await self._room_messages([doc]))[0]

    async def room_messages(
        self, room_id: str, viewer_id: str, before: str | None, limit: int
    ) -> list[RoomMessage] | None:
        if await self.room(room_id, viewer_id) is None:
            return None
        with unavailable_on_network_errors():
            docs = (
                await self.db.room_messages.find(
                    {"room_id": parse_id(room_id), "_id": {"$lt": cursor_bound(before)}}
                )
                .sort("_id", DESCENDING)
                .limit(limit)
                .to_list(None)
            )
        return await self._room_messages(docs)

    async def mark_room_read(self, room_id: str, user_id: str) -> bool:
        room, user = parse_id(room_id), parse_id(user_id)
        with unavailable_on_network_errors():
            if await self.db.rooms.find_one({"_id": room, "members": user}) is None:
                return False
            await self._read_to_last(room, user)
        return True

    async def _read_to_last(self, room: int | None, user: int | None) -> None:
        last = await self.db.room_messages.find_one({"room_id": room}, sort=[("_id", DESCENDING)])
        await self.db.room_reads.update_one(
            {"_id": f"{room}:{user}"},
            {"$max": {"last_read": last["_id"] if last else 0}},
            upsert=True,
        )

    # -- changing what one wrote -------------------------------------------------------------

    async def comment(self, post_id: str, comment_id: str, viewer_id: str) -> Comment | None:
        if await self._visible_post_doc(post_id, viewer_id) is None:
            return None
        with unavailable_on_network_errors():
            doc = await self.db.comments.find_one(
                {"_id": parse_id(comment_id), "post_id": parse_id(post_id)}
            )
        return None if doc is None else (await self._comments([doc]))[0]

    async def message(self, user_id: str, other_id: str, message_id: str) -> Message | None:
        with unavailable_on_network_errors():
            doc = await self.db.messages.find_one(
                {"_id": parse_id(message_id), "pair": pair_key(user_id, other_id)}
            )
        return None if doc is None else (await self._messages([doc]))[0]

    async def room_message(
        self, room_id: str, message_id: str, viewer_id: str
    ) -> RoomMessage | None:
        if await self.room(room_id, viewer_id) is None:
            return None
        with unavailable_on_network_errors():
            doc = await self.db.room_messages.find_one(
                {"_id": parse_id(message_id), "room_id": parse_id(room_id)}
            )
        return None if doc is None else (await self._room_messages([doc]))[0]

    async def change(self, kind: Editable, item_id: str, text: str | None) -> None:
        with unavailable_on_network_errors():
            await self.db[kind].update_one(
                {"_id": parse_id(item_id)},
                {"$set": {"text": text or "", "edited_at": now(), "deleted": text is None}},
            )

    # -- helpers ---------------------------------------------------------------------------

    async def _next(self, kind: str) -> int:
        # Two first inserts at once both try to create the counter: one wins, the other
        # gets a duplicate key (mongod) or no document (some servers); it simply retries.
        for _ in range(5):
            try:
                doc = await self.db.counters.find_one_and_update(
                    {"_id": kind},
                    {"$inc": {"value": 1}},
                    upsert=True,
                    return_document=ReturnDocument.AFTER,
                )
            except DuplicateKeyError:
                continue
            if doc is not None:
                return int(doc["value"])
        raise ServiceUnavailable(f"MongoDB: the {kind} id counter could not be advanced")

    async def _users(self, user_ids: Iterable[str]) -> dict[str, User]:
        wanted = [i for i in {parse_id(u) for u in user_ids} if i is not None]
        if not wanted:
            return {}
        with unavailable_on_network_errors():
            docs = await self.db.users.find({"_id": {"$in": wanted}}).to_list(None)
        return {str(doc["_id"]): _user(doc) for doc in docs}

    async def _posts(self, docs: list[dict[str, Any]]) -> list[Post]:
        authors = await self._users(str(doc["author_id"]) for doc in docs)
        return [
            Post(
                str(d["_id"]),
                authors[str(d["author_id"])],
                d["text"],
                d["created_at"],
                d["comment_count"],
            )
            for d in docs
        ]

    async def _comments(self, docs: list[dict[str, Any]]) -> list[Comment]:
        authors = await self._users(str(doc["author_id"]) for doc in docs)
        return [
            Comment(
                str(d["_id"]),
                str(d["post_id"]),
                authors[str(d["author_id"])],
                d["text"],
                d["created_at"],
                _change(d),
            )
            for d in docs
        ]

    async def _messages(self, docs: list[dict[str, Any]]) -> list[Message]:
        users = await self._users(
            str(d[key]) for d in docs for key in ("sender_id", "recipient_id")
        )
        return [
            Message(
                str(d["_id"]),
                users[str(d["sender_id"])],
                users[str(d["recipient_id"])],
                d["text"],
                d["created_at"],
                _change(d),
            )
            for d in docs
        ]

    async def _rooms(self, docs: list[dict[str, Any]]) -> list[Room]:
        users = await self._users(str(u) for d in docs for u in (d["owner_id"], *d["members"]))
        return [
            Room(
                str(d["_id"]),
                d["name"],
                users[str(d["owner_id"])],
                tuple(
                    sorted(
                        (users[str(m)] for m in d["members"] if str(m) in users),
                        key=lambda u: u.username,
                    )
                ),
                d["created_at"],
            )
            for d in docs
        ]

    async def _room_messages(self, docs: list[dict[str, Any]]) -> list[RoomMessage]:
        senders = await self._users(str(d["sender_id"]) for d in docs)
        return [
            RoomMessage(
                str(d["_id"]),
                str(d["room_id"]),
                senders[str(d["sender_id"])],
                d["text"],
                d["created_at"],
                _change(d),
            )
            for d in docs
        ]


def _other(users: list[int], me: int | None) -> int:
    return users[1] if users[0] == me else users[0]


def _state(doc: dict[str, Any], me: int | None) -> str:
    return friendship_state(doc["state"], doc["requester"], me)


def _change(doc: dict[str, Any]) -> Change:
    return Change(doc.get("edited_at"), bool(doc.get("deleted", False)))


def _user(doc: dict[str, Any]) -> User:
    return User(str(doc["_id"]), doc["username"], doc["display_name"])
