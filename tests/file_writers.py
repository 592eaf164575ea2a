"""Processes for tests/test_file_store_crashes.py, working on a file store until told or killed.

    python -m tests.file_writers hammer DIR ID...   50 writers on these sessions, forever
    python -m tests.file_writers write DIR ID SIZE [nobody]
                                                    one write of SIZE bytes; prints the
                                                    outcome (as user nobody, once started,
                                                    when root: root ignores file modes)

Every value a hammer writes to the i-th session carries `"owner": i`, so a
session holding another's data is caught.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys

from stores.base import USER_ID_KEY
from stores.errors import SessionGone, StoreUnavailable
from stores.file import FileSessionStore

WRITERS = 50


def store(directory: str) -> FileSessionStore:
    return FileSessionStore(directory, idle_timeout=3600, absolute_timeout=7200)


async def hammer(directory: str, ids: list[str]) -> None:
    sessions = store(directory)

    async def writer(n: int) -> None:
        rng = random.Random(n)
        while True:
            owner = rng.randrange(len(ids))
            value = {"owner": owner, "by": n, "pad": "x" * rng.randrange(4000)}
            changes: dict[str, object] = {f"k{rng.randrange(4)}": value}
            if rng.random() < 0.2:  # logins move between users: the index is written too
                changes[USER_ID_KEY] = f"user{owner}-{rng.randrange(2)}"
            await sessions.save(ids[owner], changes)

    print("ready", flush=True)
    await asyncio.gather(*(writer(n) for n in range(WRITERS)))


async def write(directory: str, session_id: str, size: int) -> None:
    try:
        await store(directory).save(session_id, {"big": "x" * size})
        print("written", flush=True)
    except StoreUnavailable as exc:
        print(f"unavailable: {exc}", flush=True)
    except SessionGone:
        print("gone", flush=True)


if __name__ == "__main__":
    command, directory, *rest = sys.argv[1:]
    if command == "hammer":
        asyncio.run(hammer(directory, rest))
    else:
        if rest[2:] == ["nobody"] and os.getuid() == 0:
            os.setgid(65534)
            os.setuid(65534)
        asyncio.run(write(directory, rest[0], int(rest[1])))
