"""A post's notification as the SQLite table grows: CPU per recipient, and a reader's cost.

An author with F friends (default 1,000) posts P times (default 300, in rounds
of 50); for each round, the process CPU per recipient of storing the posts'
notifications (`Database.publish_post`: the post, the friend list and the
notification), then what one friend's first read of them costs
(`notifications`: with SQLite, where that friend's copies are written) and a
second read (nothing new), then every friend reading them once, per recipient
of each post (the copies a post no longer writes at once are written there).
One process, a SQLite file in a temporary folder:

    .venv/bin/python bench/notification_depth.py [--friends 1000] [--posts 300]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chatapp.social.sqlite import SQLiteDatabase

ROUND = 50


async def measure(friends: int, posts: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        db = SQLiteDatabase(Path(scratch) / "depth.sqlite3")
        await db.prepare()
        author = await db.create_user("author", "Author", "-")
        people = [await db.create_user(f"f{n}", f"F{n}", "-") for n in range(friends)]
        for person in people:
            await db.request_friendship(author.id, person.id)
            await db.request_friendship(person.id, author.id)
        reader = people[-1]
        print(
            f"{'posts so far':>12} {'µs/recipient':>13} {'first read ms':>14}"
            f" {'next read ms':>13} {'all read, µs/recipient':>23}"
        )
        for done in range(0, posts, ROUND):
            started = time.process_time()
            for _ in range(ROUND):
                await db.publish_post(author, "a post")
            per_recipient = (time.process_time() - started) / ROUND / friends * 1e6
            reads = []
            for _ in range(2):
                started = time.process_time()
                await db.notifications(reader.id, None, 20)
                reads.append((time.process_time() - started) * 1000)
            started = time.process_time()
            for person in people:
                await db.notifications(person.id, None, 20)
            everyone = (time.process_time() - started) / ROUND / friends * 1e6
            print(
                f"{done + ROUND:>12} {per_recipient:>13.2f} {reads[0]:>14.2f}"
                f" {reads[1]:>13.2f} {everyone:>23.2f}"
            )
        await db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--friends", type=int, default=1000)
    parser.add_argument("--posts", type=int, default=300)
    args = parser.parse_args()
    asyncio.run(measure(args.friends, args.posts))


if __name__ == "__main__":
    main()
