"""The social data in SQLite: the embedded default (`[database] url = sqlite:///PATH`).

One connection, used by one worker thread: every call runs there, off the
IOLoop, one at a time (SQLite serialises writers anyway), in WAL mode with
foreign keys on. The schema is versioned (`PRAGMA user_version`; see
sqlite_schema), so an old file is brought up to date at start-up.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sqlite3
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar, get_args

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
    Published,
    Room,
    RoomMessage,
    RoomSummary,
    User,
)
from chatapp.social.sqlite_schema import MIGRATIONS
from chatapp.times import now
from stores.file import private_directory

T = TypeVar("T")


_USER = "u.id AS user_id, u.username, u.display_name"
_FRIEND_IDS = """
    SELECT CASE WHEN low = :viewer THEN high ELSE low END FROM friendships
    WHERE (low = :viewer OR high = :viewer) AND state = 'friends'
"""
_CAN_SEE = f"p.author_id IN (SELECT :viewer UNION {_FRIEND_IDS})"
#: The user `:me`'s notifications at or below this id are all read: unread ones are
#: counted, and marked, above it (chatapp.social.sqlite_schema, step 6).
_READ_THROUGH = "COALESCE((SELECT id FROM notifications_read_through WHERE user_id = :me), 0)"


def _use_wal(db: sqlite3.Connection, within: float = 5.0) -> None:
    """Switch the file to WAL (once per file; it stays so), waiting out other processes.

    The switch needs the file to itself, and SQLite answers "locked" at once
    instead of waiting (busy_timeout does not apply), so this retries.
    """
    deadline = time.monotonic() + within
    while db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        try:
            db.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)
        else:
            if time.monotonic() > deadline:
                raise sqlite3.OperationalError("the file could not be switched to WAL")


class SQLiteDatabase(Database):
    name = "sqlite"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        self._db: sqlite3.Connection | None = None

    # -- plumbing -------------------------------------------------------------------------

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        def in_worker() -> T:
            try:
                if self._db is None:
                    self._db = self._open()
                with self._db:  # one transaction: committed, or rolled back on error
                    return work(self._db)
            except sqlite3.OperationalError as exc:  # locked past busy_timeout, disk, I/O
                raise ServiceUnavailable(f"SQLite at {self.path}: {exc}") from exc

        return await asyncio.get_running_loop().run_in_executor(self._executor, in_worker)

    def _open(self) -> sqlite3.Connection:
        # Password hashes and direct messages: readable by the owner only.
        private_directory(self.path.parent)
        os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        db.row_factory = sqlite3.Row
        # First: another process migrating the file holds a lock for a moment; wait
        # for it rather than fail with "database is locked".
        db.execute("PRAGMA busy_timeout = 5000")
        _use_wal(db)
        db.execute("PRAGMA foreign_keys = ON")
        db.isolation_level = "DEFERRED"
        return db

    async def prepare(self) -> None:
        def migrate(db: sqlite3.Connection) -> None:
            # The write lock first, then the version: a second process starting at the
            # same moment waits here and then finds the schema already up to date.
            db.execute("BEGIN IMMEDIATE")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in filter(str.strip, script.split(";")):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {number}")

        await self._run(migrate)

    async def ping(self) -> None:
        await self._run(lambda db: db.execute("SELECT 1").fetchone())

    async def close(self) -> None:
        def close() -> None:
            if self._db is not None:
                self._db.close()
                self._db = None

        await asyncio.get_running_loop().run_in_executor(self._executor, close)
        self._executor.shutdown(wait=True)

    # -- accounts -------------------------------------------------------------------------

    async def create_user(self, username: str, display_name: str, password_hash: str) -> User:
        def create(db: sqlite3.Connection) -> User:
            try:
                cursor = db.execute(
                    "INSERT INTO users (username, display_name, password_hash, created_at)"
                    " VALUES (?, ?, ?, ?)",
                    (username, display_name, password_hash, now().isoformat()),
                )
            except sqlite3.IntegrityError:
                raise UsernameTaken(username) from None
            return User(str(cursor.lastrowid), username, display_name)

        return await self._run(create)

    async def account(self, username: str) -> Account | None:
        row = await self._one(
            f"SELECT {_USER}, u.password_hash FROM users u WHERE u.username = ?", (username,)
        )
        return None if row is None else Account(_user(row), row["password_hash"])

    async def user(self, user_id: str) -> User | None:
        row = await self._one(f"SELECT {_USER} FROM users u WHERE u.id = ?", (parse_id(user_id),))
        return None if row is None else _user(row)

    async def rename(self, user_id: str, display_name: str) -> User | None:
        await self._run(
            lambda db: db.execute(
                "UPDATE users SET display_name = ? WHERE id = ?", (display_name, parse_id(user_id))
            )
        )
        return await self.user(user_id)

    async def set_password_hash(self, user_id: str, password_hash: str) -> None:
        await self._run(
            lambda db: db.execute(
                "UPDATE users SET password_hash = ? WHERE id = ?",
                (password_hash, parse_id(user_id)),
            )
        )

    async def search_users(self, prefix: str, limit: int) -> list[User]:
        # Ranges, not LIKE (which cannot use an index): usernames are a-z, 0-9 and _, all
        # before "~"; a display name's lower-case form before the highest code point.
        name = "".join(c.lower() if c.isascii() else c for c in prefix)  # as SQLite's lower()
        rows = await self._all(
            f"SELECT {_USER} FROM users u WHERE (u.username >= :p AND u.username < :p || '~')"
            " OR (lower(u.display_name) >= :n AND lower(u.display_name) < :n || char(1114111))"
            " ORDER BY u.username LIMIT :limit",
            {"p": prefix, "n": name, "limit": limit},
        )
        return [_user(row) for row in rows]

    # -- friendships ----------------------------------------------------------------------

    async def friendship(self, user_id: str, other_id: str) -> str:
        return (await self.friendships(user_id, [other_id]))[other_id]

    async def friendships(self, user_id: str, others: Iterable[str]) -> dict[str, str]:
        me = parse_id(user_id)
        others = list(others)
        rows = await self._all(
            "SELECT low, high, requester, state FROM friendships WHERE (low = :me OR high = :me)",
            {"me": me},
        )
        states = {str(r["high"] if r["low"] == me else r["low"]): _state(r, me) for r in rows}
        return {other: states.get(other, "none") for other in others}

    async def request_friendship(self, user_id: str, other_id: str) -> str:
        me = parse_id(user_id)
        low, high = ordered_pair(user_id, other_id)

        def request(db: sqlite3.Connection) -> str:
            db.execute(
                "INSERT INTO friendships (low, high, requester, state) VALUES (?, ?, ?, 'pending')"
                " ON CONFLICT (low, high) DO UPDATE SET state = 'friends',"
                " since = (SELECT COALESCE(MAX(id), 0) FROM notification_events)"
                " WHERE friendships.requester != excluded.requester",
                (low, high, me),
            )
            row = db.execute(
                "SELECT requester, state FROM friendships WHERE low = ? AND high = ?", (low, high)
            ).fetchone()
            return _state(row, me)

        return await self._run(request)

    async def end_friendship(self, user_id: str, other_id: str, expect: str | None = None) -> str:
        me = parse_id(user_id)
        low, high = ordered_pair(user_id, other_id)

        def end(db: sqlite3.Connection) -> str:
            pair = (low, high)
            row = db.execute(
                "SELECT requester, state FROM friendships WHERE low = ? AND high = ?", pair
            ).fetchone()
            state = "none" if row is None else _state(row, me)
            if row is not None and expect in (None, state):
                if state == "friends":  # each keeps the posts of the friendship
                    _pull(db, low)
                    _pull(db, high)
                db.execute("DELETE FROM friendships WHERE low = ? AND high = ?", pair)
            return state

        return await self._run(end)

    async def related(self, user_id: str, state: str) -> list[User]:
        me = parse_id(user_id)
        rows = await self._all(
            f"SELECT {_USER}, f.requester, f.state FROM friendships f"
            " JOIN users u ON u.id = CASE WHEN f.low = :me THEN f.high ELSE f.low END"
            " WHERE (f.low = :me OR f.high = :me) ORDER BY u.username",
            {"me": me},
        )
        return [_user(row) for row in rows if _state(row, me) == state]

    async def friend_ids(self, user_id: str) -> list[str]:
        rows = await self._all(_FRIEND_IDS, {"viewer": parse_id(user_id)})
        return [str(row[0]) for row in rows]

    # -- posts and comments -------------------------------------------------------------------

    async def create_post(
        self, author_id: str, text: str, key: str | None = None
    ) -> tuple[Post, bool]:
        author = parse_id(author_id)

        def create(db: sqlite3.Connection) -> tuple[sqlite3.Row, bool]:
            post_id, created = _create_post(db, author, text, key)
            return _post_row(db, post_id, author), created

        row, created = await self._run(create)
        return _post(row), created

    async def publish_post(self, author: User, text: str, key: str | None = None) -> Published:
        """One trip to the worker and one transaction: the post, the friend list, and the
        notification stored once; each friend's copy is written when that friend next
        reads (`_pull`)."""
        me = parse_id(author.id)

        def publish(db: sqlite3.Connection) -> Published:
            post_id, created = _create_post(db, me, text, key)
            post = _post(_post_row(db, post_id, me))
            if not created:
                return Published(post, False, [], None)
            friends = [str(f) for (f,) in db.execute(_FRIEND_IDS, {"viewer": me})]
            if not friends:
                return Published(post, True, [], None)
            made = Notification.new("post", author, post_id=post.id)
            number = _store_event(db, made, for_friends=True)
            return Published(post, True, friends, replace(made, id=str(number)))

        return await self._run(publish)

    async def feed(self, viewer_id: str, before: str | None, limit: int) -> list[Post]:
        rows = await self._all(
            f"SELECT p.*, {_USER} FROM posts p JOIN users u ON u.id = p.author_id"
            f" WHERE {_CAN_SEE} AND p.id < :before ORDER BY p.id DESC LIMIT :limit",
            {"viewer": parse_id(viewer_id), "before": cursor_bound(before), "limit": limit},
        )
        return [_post(row) for row in rows]

    async def visible_post(self, post_id: str, viewer_id: str) -> Post | None:
        return await self._post(parse_id(post_id), viewer_id)

    async def add_comment(self, post_id: str, author_id: str, text: str) -> Comment | None:
        author = parse_id(author_id)

        def add(db: sqlite3.Connection) -> int | None:
            visible = db.execute(
                f"SELECT p.id FROM posts p WHERE p.id = :post AND {_CAN_SEE}",
                {"post": parse_id(post_id), "viewer": author},
            ).fetchone()
            if visible is None:
                return None
            db.execute(
                "UPDATE posts SET comment_count = comment_count + 1 WHERE id = ?", (visible[0],)
            )
            cursor = db.execute(
                "INSERT INTO comments (post_id, author_id, text, created_at) VALUES (?, ?, ?, ?)",
                (visible[0], author, text, now().isoformat()),
            )
            return cursor.lastrowid

        comment_id = await self._run(add)
        if comment_id is None:
            return None
        row = await self._one(
            f"SELECT c.*, {_USER} FROM comments c JOIN users u ON u.id = c.author_id"
            " WHERE c.id = ?",
            (comment_id,),
        )
        return _comment(row)

    async def comments(self, post_id: str, viewer_id: str) -> list[Comment]:
        rows = await self._all(
            f"SELECT c.*, {_USER} FROM comments c JOIN users u ON u.id = c.author_id"
            f" JOIN posts p ON p.id = c.post_id WHERE c.post_id = :post AND {_CAN_SEE}"
            " ORDER BY c.id",
            {"post": parse_id(post_id), "viewer": parse_id(viewer_id)},
        )
        return [_comment(row) for row in rows]

    # -- notifications ----------------------------------------------------------------------

    async def _store_notification(self, recipients: list[int | None], made: Notification) -> int:
        return await self._run(lambda db: _store_notification(db, recipients, made))

    async def notifications(
        self, user_id: str, before: str | None, limit: int
    ) -> tuple[list[Notification], int]:
        me = parse_id(user_id)

        def read(db: sqlite3.Connection) -> tuple[list[sqlite3.Row], int]:
            _pull(db, me)
            rows = db.execute(
                "SELECT e.id, e.kind, e.post_id, e.text, e.room_id, e.created_at, n.read,"
                f" {_USER} FROM notifications n JOIN notification_events e ON e.id = n.id"
                " JOIN users u ON u.id = e.actor_id"
                " WHERE n.user_id = ? AND n.id < ? ORDER BY n.id DESC LIMIT ?",
                (me, cursor_bound(before), limit),
            ).fetchall()
            (unread,) = db.execute(
                f"SELECT count(*) FROM notifications WHERE user_id = :me AND id > {_READ_THROUGH}"
                " AND read = 0",
                {"me": me},
            ).fetchone()
            return rows, int(unread)

        rows, unread = await self._run(read)
        return [_notification(row) for row in rows], unread

    async def mark_read(self, user_id: str, ids: Iterable[str] | None) -> None:
        me = parse_id(user_id)

        def mark(db: sqlite3.Connection) -> None:
            _pull(db, me)
            if ids is None:
                db.execute(
                    "UPDATE notifications SET read = 1"
                    f" WHERE user_id = :me AND id > {_READ_THROUGH} AND read = 0",
                    {"me": me},
                )
            else:
                db.executemany(
                    "UPDATE notifications SET read = 1 WHERE user_id = ? AND id = ?",
                    [(me, parse_id(i)) for i in ids],
                )
            _move_read_through(db, me)

        await self._run(mark)

    # -- messages -------------------------------------------------------------------------

    async def send_message(self, sender_id: str, recipient_id: str, text: str) -> Message:
        message_id = await self._insert(
            "INSERT INTO messages (pair, sender_id, recipient_id, text, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                pair_key(sender_id, recipient_id),
                parse_id(sender_id),
                parse_id(recipient_id),
                text,
                now().isoformat(),
            ),
        )
        (message,) = await self._messages("m.id = :id", {"id": message_id})
        return message

    async def messages(
        self, user_id: str, other_id: str, before: str | None, limit: int
    ) -> list[Message]:
        return await self._messages(
            "m.pair = :pair AND m.id < :before ORDER BY m.id DESC LIMIT :limit",
            {"pair": pair_key(user_id, other_id), "before": cursor_bound(before), "limit": limit},
        )

    async def conversations(self, user_id: str) -> list[tuple[Message, int]]:
        me = parse_id(user_id)
        last = await self._messages(
            "m.id IN (SELECT MAX(id) FROM messages WHERE sender_id = :me OR recipient_id = :me"
            " GROUP BY pair) ORDER BY m.id DESC",
            {"me": me},
        )
        rows = await self._all(
            "SELECT m.sender_id AS other, COUNT(*) AS unread FROM messages m"
            " LEFT JOIN conversation_reads r ON r.user_id = :me AND r.other_id = m.sender_id"
            " WHERE m.recipient_id = :me AND m.id > COALESCE(r.last_read, 0)"
            " GROUP BY m.sender_id",
            {"me": me},
        )
        unread = {str(row["other"]): int(row["unread"]) for row in rows}
        return [(m, unread.get(m.other_party(user_id).id, 0)) for m in last]

    async def mark_conversation_read(self, user_id: str, other_id: str) -> None:
        me, other = parse_id(user_id), parse_id(other_id)
        pair = pair_key(user_id, other_id)

        def mark(db: sqlite3.Connection) -> None:
            _pull(db, me)
            db.execute(
                "INSERT INTO conversation_reads (user_id, other_id, last_read)"
                " VALUES (?, ?, (SELECT COALESCE(MAX(id), 0) FROM messages WHERE pair = ?))"
                " ON CONFLICT (user_id, other_id) DO UPDATE SET last_read = excluded.last_read",
                (me, other, pair),
            )
            db.execute(
                f"UPDATE notifications SET read = 1 WHERE user_id = :me AND id > {_READ_THROUGH}"
                " AND read = 0 AND EXISTS (SELECT 1 FROM notification_events e"
                " WHERE e.id = notifications.id AND e.kind = 'message' AND e.actor_id = :other)",
                {"me": me, "other": other},
            )
            _move_read_through(db, me)

        await self._run(mark)

    async def _messages(self, where: str, params: dict[str, Any]) -> list[Message]:
        rows = await self._all(
            "SELECT m.id, m.text, m.created_at, m.edited_at, m.deleted,"
            " s.id AS s_id, s.username AS s_username, s.display_name AS s_display_name,"
            " r.id AS r_id, r.username AS r_username, r.display_name AS r_display_name"
            " FROM messages m JOIN users s ON s.id = m.sender_id"
            f" JOIN users r ON r.id = m.recipient_id WHERE {where}",
            params,
        )
        return [
            Message(
                str(row["id"]),
                _user(row, "s_"),
                _user(row, "r_"),
                row["text"],
                _time(row["created_at"]),
                _change(row),
            )
            for row in rows
        ]

    # -- rooms -------------------------------------------------------------------------------

    async def create_room(self, owner_id: str, name: str, member_ids: Iterable[str]) -> Room:
        owner = parse_id(owner_id)
        members = {m for m in (owner, *map(parse_id, member_ids)) if m is not None}

        def create(db: sqlite3.Connection) -> int:
            room = int(
                db.execute(
                    "INSERT INTO rooms (name, owner_id, created_at, last_activity)"
                    " VALUES (?, ?, ?, ?)",
                    (name, owner, now().isoformat(), _next(db, "room_activity")),
                ).lastrowid
                or 0
            )
            db.executemany(
                "INSERT INTO room_members (room_id, user_id, joined) VALUES (?, ?, 0)",
                [(room, member) for member in sorted(members)],
            )
            return room

        room_id = str(await self._run(create))
        room = await self.room(room_id, owner_id)
        assert room is not None
        return room

    async def room(self, room_id: str, viewer_id: str) -> Room | None:
        rooms = await self._rooms(
            "r.id = :room AND EXISTS (SELECT 1 FROM room_members WHERE room_id = r.id"
            " AND user_id = :viewer)",
            {"room": parse_id(room_id), "viewer": parse_id(viewer_id)},
        )
        return rooms[0] if rooms else None

    async def rooms(self, user_id: str) -> list[RoomSummary]:
        me = parse_id(user_id)
        rooms = await self._rooms(
            "r.id IN (SELECT room_id FROM room_members WHERE user_id = :me)"
            " ORDER BY r.last_activity DESC",
            {"me": me},
        )
        if not rooms:
            return []
        last = {
            m.room_id: m
            for m in await self._room_messages(
                "m.id IN (SELECT MAX(id) FROM room_messages WHERE room_id IN"
                " (SELECT room_id FROM room_members WHERE user_id = :me) GROUP BY room_id)",
                {"me": me},
            )
        }
        rows = await self._all(
            "SELECT k.room_id, COUNT(m.id) AS unread FROM room_members k"
            " JOIN room_messages m ON m.room_id = k.room_id AND m.id > k.last_read"
            " AND m.sender_id != k.user_id AND m.deleted = 0"
            " WHERE k.user_id = :me GROUP BY k.room_id",
            {"me": me},
        )
        unread = {str(row["room_id"]): int(row["unread"]) for row in rows}
        return [RoomSummary(r, last.get(r.id), unread.get(r.id, 0)) for r in rooms]

    async def room_ids(self, user_id: str) -> list[str]:
        rows = await self._all(
            "SELECT room_id FROM room_members WHERE user_id = ?", (parse_id(user_id),)
        )
        return [str(row["room_id"]) for row in rows]

    async def add_room_member(self, room_id: str, user_id: str) -> bool:
        room, user = parse_id(room_id), parse_id(user_id)

        def add(db: sqlite3.Connection) -> bool:
            if db.execute("SELECT 1 FROM rooms WHERE id = ?", (room,)).fetchone() is None:
                return False
            db.execute(
                "INSERT INTO room_members (room_id, user_id, joined, last_read)"
                " VALUES (?, ?, 0, (SELECT COALESCE(MAX(id), 0) FROM room_messages"
                " WHERE room_id = ?)) ON CONFLICT (room_id, user_id) DO NOTHING",
                (room, user, room),
            )
            return True

        return await self._run(add)

    async def remove_room_member(self, room_id: str, user_id: str) -> bool:
        return bool(
            await self._run(
                lambda db: (
                    db.execute(
                        "DELETE FROM room_members WHERE room_id = ? AND user_id = ?",
                        (parse_id(room_id), parse_id(user_id)),
                    ).rowcount
                )
            )
        )

    async def send_room_message(
        self, room_id: str, sender_id: str, text: str
    ) -> RoomMessage | None:
        room, sender = parse_id(room_id), parse_id(sender_id)

        def send(db: sqlite3.Connection) -> int | None:
            member = db.execute(
                "SELECT 1 FROM room_members WHERE room_id = ? AND user_id = ?", (room, sender)
            ).fetchone()
            if member is None:
                return None
            message = db.execute(
                "INSERT INTO room_messages (room_id, sender_id, text, created_at)"
                " VALUES (?, ?, ?, ?)",
                (room, sender, text, now().isoformat()),
            ).lastrowid
            db.execute(
                "UPDATE rooms SET last_activity = ? WHERE id = ?",
                (_next(db, "room_activity"), room),
            )
            return message

        message_id = await self._run(send)
        if message_id is None:
            return None
        (message,) = await self._room_messages("m.id = :id", {"id": message_id})
        return message

    async def room_messages(
        self, room_id: str, viewer_id: str, before: str | None, limit: int
    ) -> list[RoomMessage] | None:
        if await self.room(room_id, viewer_id) is None:
            return None
        return await self._room_messages(
            "m.room_id = :room AND m.id < :before ORDER BY m.id DESC LIMIT :limit",
            {"room": parse_id(room_id), "before": cursor_bound(before), "limit": limit},
        )

    async def mark_room_read(self, room_id: str, user_id: str) -> bool:
        room = parse_id(room_id)
        return bool(
            await self._run(
                lambda db: (
                    db.execute(
                        "UPDATE room_members SET last_read = (SELECT COALESCE(MAX(id), 0)"
                        " FROM room_messages WHERE room_id = :room)"
                        " WHERE room_id = :room AND user_id = :me",
                        {"room": room, "me": parse_id(user_id)},
                    ).rowcount
                )
            )
        )

    async def _rooms(self, where: str, params: dict[str, Any]) -> list[Room]:
        rooms = await self._all(
            f"SELECT r.*, {_USER} FROM rooms r JOIN users u ON u.id = r.owner_id WHERE {where}",
            params,
        )
        if not rooms:
            return []
        ids = [row["id"] for row in rooms]
        members: dict[int, list[User]] = {room: [] for room in ids}
        for row in await self._all(
            f"SELECT k.room_id, {_USER} FROM room_members k JOIN users u ON u.id = k.user_id"
            f" WHERE k.room_id IN ({','.join('?' * len(ids))}) ORDER BY u.username",
            ids,
        ):
            members[row["room_id"]].append(_user(row))
        return [
            Room(
                str(row["id"]),
                row["name"],
                _user(row),
                tuple(members[row["id"]]),
                _time(row["created_at"]),
            )
            for row in rooms
        ]

    async def _room_messages(self, where: str, params: dict[str, Any]) -> list[RoomMessage]:
        rows = await self._all(
            "SELECT m.id, m.room_id, m.text, m.created_at, m.edited_at, m.deleted,"
            f" {_USER} FROM room_messages m"
            f" JOIN users u ON u.id = m.sender_id WHERE {where}",
            params,
        )
        return [
            RoomMessage(
                str(row["id"]),
                str(row["room_id"]),
                _user(row),
                row["text"],
                _time(row["created_at"]),
                _change(row),
            )
            for row in rows
        ]

    # -- changing what one wrote -------------------------------------------------------------

    async def comment(self, post_id: str, comment_id: str, viewer_id: str) -> Comment | None:
        row = await self._one(
            f"SELECT c.*, {_USER} FROM comments c JOIN users u ON u.id = c.author_id"
            " JOIN posts p ON p.id = c.post_id WHERE c.id = :comment AND c.post_id = :post"
            f" AND {_CAN_SEE}",
            {
                "comment": parse_id(comment_id),
                "post": parse_id(post_id),
                "viewer": parse_id(viewer_id),
            },
        )
        return None if row is None else _comment(row)

    async def message(self, user_id: str, other_id: str, message_id: str) -> Message | None:
        found = await self._messages(
            "m.id = :id AND m.pair = :pair",
            {"id": parse_id(message_id), "pair": pair_key(user_id, other_id)},
        )
        return found[0] if found else None

    async def room_message(
        self, room_id: str, message_id: str, viewer_id: str
    ) -> RoomMessage | None:
        found = await self._room_messages(
            "m.id = :id AND m.room_id = :room AND EXISTS (SELECT 1 FROM room_members"
            " WHERE room_id = m.room_id AND user_id = :viewer)",
            {"id": parse_id(message_id), "room": parse_id(room_id), "viewer": parse_id(viewer_id)},
        )
        return found[0] if found else None

    async def change(self, kind: Editable, item_id: str, text: str | None) -> None:
        if kind not in get_args(Editable):  # a table's name, put into the SQL
            raise ValueError(f"not editable: {kind!r}")
        await self._run(
            lambda db: db.execute(
                f"UPDATE {kind} SET text = ?, edited_at = ?, deleted = ? WHERE id = ?",
                (text or "", now().isoformat(), text is None, parse_id(item_id)),
            )
        )

    # -- helpers ---------------------------------------------------------------------------

    async def _post(self, post_id: int | None, viewer_id: str) -> Post | None:
        row = await self._one(
            f"SELECT p.*, {_USER} FROM posts p JOIN users u ON u.id = p.author_id"
            f" WHERE p.id = :post AND {_CAN_SEE}",
            {"post": post_id, "viewer": parse_id(viewer_id)},
        )
        return None if row is None else _post(row)

    async def _insert(self, sql: str, params: tuple[Any, ...]) -> int:
        return await self._run(lambda db: int(db.execute(sql, params).lastrowid or 0))

    async def _one(self, sql: str, params: Any) -> sqlite3.Row | None:
        return await self._run(lambda db: db.execute(sql, params).fetchone())

    async def _all(self, sql: str, params: Any) -> list[sqlite3.Row]:
        return await self._run(lambda db: db.execute(sql, params).fetchall())


def _create_post(
    db: sqlite3.Connection, author: int | None, text: str, key: str | None
) -> tuple[int, bool]:
    """A new post's id, and True; the post of a `key` used within KEY_LIFETIME, and False."""
    moment = time.time()
    if key is not None:
        row = db.execute(
            "SELECT post_id, created_at FROM post_keys WHERE user_id = ? AND key = ?",
            (author, key),
        ).fetchone()
        if row is not None and row["created_at"] > moment - KEY_LIFETIME:
            return int(row["post_id"]), False
    cursor = db.execute(
        "INSERT INTO posts (author_id, text, created_at) VALUES (?, ?, ?)",
        (author, text, now().isoformat()),
    )
    post_id = int(cursor.lastrowid or 0)
    if key is not None:
        db.execute(
            "INSERT OR REPLACE INTO post_keys (user_id, key, post_id, created_at)"
            " VALUES (?, ?, ?, ?)",
            (author, key, post_id, moment),
        )
    return post_id, True


def _post_row(db: sqlite3.Connection, post_id: int, author: int | None) -> sqlite3.Row:
    """A post as its author sees it (always)."""
    row = db.execute(
        f"SELECT p.*, {_USER} FROM posts p JOIN users u ON u.id = p.author_id"
        " WHERE p.id = :post AND p.author_id = :author",
        {"post": post_id, "author": author},
    ).fetchone()
    assert row is not None
    return row  # type: ignore[no-any-return]


def _store_event(db: sqlite3.Connection, made: Notification, *, for_friends: bool = False) -> int:
    """`made` stored once (all but its id); the id."""
    number = db.execute(
        "INSERT INTO notification_events"
        " (kind, actor_id, post_id, text, room_id, created_at, for_friends)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            made.kind,
            parse_id(made.actor.id),
            parse_id(made.post_id),
            made.text,
            parse_id(made.room_id),
            made.created_at.isoformat(),
            int(for_friends),
        ),
    ).lastrowid
    return int(number)  # type: ignore[arg-type]


def _store_notification(
    db: sqlite3.Connection, recipients: list[int | None], made: Notification
) -> int:
    """`made` stored once, and each recipient's copy as its id; the id."""
    number = _store_event(db, made)
    db.executemany(
        "INSERT INTO notifications (user_id, id) VALUES (?, ?)",
        [(user, number) for user in recipients],
    )
    return number


#: The notifications made for the friends of their actor (`for_friends`) that the user
#: `:me` has no copy of yet: by someone who was a friend when it was made.
_UNPULLED = """
    FROM friendships f JOIN notification_events e
        ON e.for_friends = 1
        AND e.actor_id = CASE WHEN f.low = :me THEN f.high ELSE f.low END
        AND e.id > MAX(f.since, COALESCE(
            (SELECT id FROM notifications_pulled_through WHERE user_id = :me), 0))
    WHERE (f.low = :me OR f.high = :me) AND f.state = 'friends'
"""


def _pull(db: sqlite3.Connection, me: int | None) -> None:
    """Write the user's copies of their friends' new posts' notifications, before anything
    reads or marks them. A look first, so a read with nothing new writes nothing."""
    params = {"me": me}
    if db.execute(f"SELECT 1 {_UNPULLED} LIMIT 1", params).fetchone() is None:
        return
    db.execute(
        f"INSERT OR IGNORE INTO notifications (user_id, id) SELECT :me, e.id {_UNPULLED}", params
    )
    db.execute(
        "INSERT INTO notifications_pulled_through (user_id, id)"
        " VALUES (:me, (SELECT MAX(id) FROM notification_events))"
        " ON CONFLICT (user_id) DO UPDATE SET id = excluded.id",
        params,
    )


def _move_read_through(db: sqlite3.Connection, me: int | None) -> None:
    """After a marking: up to the oldest notification still unread, or to the newest."""
    db.execute(
        "INSERT INTO notifications_read_through (user_id, id) VALUES (:me, COALESCE("
        f" (SELECT MIN(id) - 1 FROM notifications WHERE user_id = :me AND id > {_READ_THROUGH}"
        "  AND read = 0),"
        " (SELECT MAX(id) FROM notifications WHERE user_id = :me), 0))"
        " ON CONFLICT (user_id) DO UPDATE SET id = excluded.id",
        {"me": me},
    )


def _next(db: sqlite3.Connection, counter: str) -> int:
    """The next number of a counter: the rooms' activity order."""
    return int(
        db.execute(
            "INSERT INTO counters (name, value) VALUES (?, 1)"
            " ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value",
            (counter,),
        ).fetchone()[0]
    )


def _change(row: sqlite3.Row) -> Change:
    edited = row["edited_at"]
    return Change(None if edited is None else _time(edited), bool(row["deleted"]))


def _time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def _state(row: sqlite3.Row, me: int | None) -> str:
    return friendship_state(row["state"], row["requester"], me)


def _user(row: sqlite3.Row, prefix: str = "") -> User:
    key = "user_id" if not prefix else f"{prefix}id"
    return User(str(row[key]), row[f"{prefix}username"], row[f"{prefix}display_name"])


def _post(row: sqlite3.Row) -> Post:
    return Post(
        str(row["id"]), _user(row), row["text"], _time(row["created_at"]), row["comment_count"]
    )


def _comment(row: sqlite3.Row | None) -> Comment:
    assert row is not None
    return Comment(
        str(row["id"]),
        str(row["post_id"]),
        _user(row),
        row["text"],
        _time(row["created_at"]),
        _change(row),
    )


def _notification(row: sqlite3.Row) -> Notification:
    return Notification(
        str(row["id"]),
        row["kind"],
        _user(row),
        _time(row["created_at"]),
        bool(row["read"]),
        None if row["post_id"] is None else str(row["post_id"]),
        row["text"],
        None if row["room_id"] is None else str(row["room_id"]),
    )
