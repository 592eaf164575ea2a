"""A room's history pages in constant time: 256 members, 100,000 messages, per data backend.

For SQLite and MongoDB (SecantusDB in this process, or a real mongod with
CHATAPP_TEST_MONGODB_URL), a room of 256 members gets `--messages` messages
(written in bulk through the backend's own client: the API's one write per
message would take minutes), then a member reads pages of 50 through the data
layer (`Database.room_messages`, what GET /api/rooms/{id}/messages calls),
starting at the newest, in the middle and near the oldest. Equal times at the
three depths are what "constant time" means; the indexes (room, id) make each
page one range scan.

    .venv/bin/python bench/room_history.py [--messages 100000] [--pages 200]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chatapp.backends import connect_mongodb
from chatapp.social.base import Database
from chatapp.social.mongodb import MongoDatabase
from chatapp.social.sqlite import SQLiteDatabase
from tests.servers import secantus_server

MEMBERS = 256
PAGE = 50


async def fill(db: Database, messages: int) -> tuple[str, str, int]:
    """A room of MEMBERS with `messages` messages; (room id, a member's id, newest id)."""
    owner = await db.create_user(f"owner_{uuid.uuid4().hex[:6]}", "Owner", "x")
    members = [
        await db.create_user(f"m{n}_{uuid.uuid4().hex[:6]}", f"M {n}", "x")
        for n in range(MEMBERS - 1)
    ]
    room = await db.create_room(owner.id, "big", [m.id for m in members])
    first = await db.send_room_message(room.id, owner.id, "first")
    assert first is not None
    start, created = int(first.id) + 1, dt.datetime.now(dt.UTC)
    senders = [int(m.id) for m in [owner, *members]]
    rows = [
        (start + n, int(room.id), senders[n % len(senders)], f"message {n}", created)
        for n in range(messages - 1)
    ]
    if isinstance(db, SQLiteDatabase):
        await db._run(
            lambda c: c.executemany(
                "INSERT INTO room_messages (id, room_id, sender_id, text, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                [(*row[:4], row[4].isoformat()) for row in rows],
            )
        )
    else:
        assert isinstance(db, MongoDatabase)
        keys = ("_id", "room_id", "sender_id", "text", "created_at")
        for at in range(0, len(rows), 10_000):
            await db.db.room_messages.insert_many(
                [dict(zip(keys, r, strict=True)) for r in rows[at : at + 10_000]]
            )
    return room.id, members[0].id, start + messages - 2


async def page_times(db: Database, room: str, member: str, cursor: str | None, pages: int) -> float:
    """Median milliseconds for one page of PAGE read below `cursor`."""
    times = []
    for _ in range(pages):
        started = time.perf_counter()
        page = await db.room_messages(room, member, cursor, PAGE)
        times.append((time.perf_counter() - started) * 1000)
        assert page is not None and len(page) == PAGE
    return statistics.median(times)


async def measure(name: str, db: Database, args: argparse.Namespace) -> None:
    await db.prepare()
    started = time.perf_counter()
    room, member, newest = await fill(db, args.messages)
    print(f"{name}: {args.messages:,} messages written in {time.perf_counter() - started:.1f} s")
    depths = {
        "newest": None,
        "middle": str(newest - args.messages // 2),
        "oldest": str(newest - args.messages + 2 * PAGE),
    }
    for depth, cursor in depths.items():
        ms = await page_times(db, room, member, cursor, args.pages)
        print(f"  page of {PAGE} at the {depth:6}: {ms:.2f} ms (median of {args.pages})")
    await db.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--pages", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch, ExitStack() as stack:
        await measure("sqlite", SQLiteDatabase(Path(scratch) / "bench.sqlite3"), args)
        url = os.environ.get("CHATAPP_TEST_MONGODB_URL") or stack.enter_context(
            secantus_server(Path(scratch) / "secantus")
        )
        client = connect_mongodb(url, "pymongo", 30)
        await measure("mongodb", MongoDatabase(client[f"bench_{uuid.uuid4().hex[:8]}"]), args)


if __name__ == "__main__":
    asyncio.run(main())
