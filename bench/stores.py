"""Session store micro-benchmark: load, patch-save and touch per second, per store.

Every figure is printed next to the same operation on a plain dict, measured
in the same run, so each store's cost reads as a ratio on a noisy machine.
Starts its own redis-server and SecantusDB (MongoDB wire protocol); set
CHATAPP_TEST_MONGODB_URL to measure a real mongod instead.

    .venv/bin/python bench/stores.py [--seconds 1.0]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chatapp.backends import connect_mongodb, connect_redis, mongodb_database
from stores.base import SessionStore
from stores.file import FileSessionStore
from stores.memory import MemorySessionStore
from stores.mongodb import MongoSessionStore
from stores.redis import RedisSessionStore
from tests.servers import redis_server, secantus_server

TIMEOUTS = {"idle_timeout": 1800.0, "absolute_timeout": 7 * 86400.0}
#: A typical logged-in session: user, prefs, a few small keys.
SESSION = {
    "user_id": "u123",
    "user": {"id": "u123", "username": "alice", "display_name": "Alice"},
    "prefs": {"theme": "dark"},
    "counter": 0,
}


async def rate(operation: Callable[[int], Awaitable[object]], seconds: float) -> float:
    """Operations per second, run one after another for about `seconds`."""
    count, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        for _ in range(20):
            await operation(count)
            count += 1
    return count / elapsed


async def measure(store: SessionStore, seconds: float) -> dict[str, float]:
    session_id = secrets.token_urlsafe(32)
    await store.create(session_id, SESSION)

    async def save(i: int) -> None:
        await store.save(session_id, {"counter": i})

    return {
        "load": await rate(lambda _: store.load(session_id), seconds),
        "save": await rate(save, seconds),
        "touch": await rate(lambda _: store.touch(session_id), seconds),
    }


async def measure_dict(seconds: float) -> dict[str, float]:
    sessions = {"sid": dict(SESSION)}
    expiry = {"sid": 0.0}

    async def load(_: int) -> dict[str, object]:
        return dict(sessions["sid"])

    async def save(i: int) -> None:
        sessions["sid"]["counter"] = i

    async def touch(_: int) -> None:
        expiry["sid"] = time.time() + 1800

    return {
        "load": await rate(load, seconds),
        "save": await rate(save, seconds),
        "touch": await rate(touch, seconds),
    }


async def main(seconds: float) -> None:
    # Servers stop (ExitStack) before their scratch directory goes.
    with tempfile.TemporaryDirectory() as scratch, ExitStack() as stack:
        root = Path(scratch)
        redis_url = stack.enter_context(redis_server(root / "redis")).url
        mongodb_url = os.environ.get("CHATAPP_TEST_MONGODB_URL") or stack.enter_context(
            secantus_server(root / "mongo", "chatapp_bench")
        )
        makers: dict[str, Callable[[], SessionStore]] = {
            "memory": lambda: MemorySessionStore(**TIMEOUTS),
            "file": lambda: FileSessionStore(root / "sessions", **TIMEOUTS),
            "mongodb (pymongo)": lambda: MongoSessionStore(
                mongodb_database(connect_mongodb(mongodb_url, "pymongo", 5)).bench_p, **TIMEOUTS
            ),
            "mongodb (motor)": lambda: MongoSessionStore(
                mongodb_database(connect_mongodb(mongodb_url, "motor", 5)).bench_m, **TIMEOUTS
            ),
            "redis": lambda: RedisSessionStore(connect_redis(redis_url, 5), **TIMEOUTS),
        }
        reference = await measure_dict(seconds)
        print(f"{'store':<18} {'load/s':>9} {'save/s':>9} {'touch/s':>9}   cost vs a dict (x)")
        print(_row("dict (reference)", reference, reference))
        for name, make in makers.items():
            store = make()
            await store.prepare()
            print(_row(name, await measure(store, seconds), reference), flush=True)
            await store.close()


def _row(name: str, figures: dict[str, float], reference: dict[str, float]) -> str:
    rates = " ".join(f"{figures[op]:>9,.0f}" for op in ("load", "save", "touch"))
    ratios = " / ".join(f"{reference[op] / figures[op]:,.0f}" for op in ("load", "save", "touch"))
    return f"{name:<18} {rates}   {ratios}"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="per operation and store")
    logging.basicConfig(level=logging.ERROR)  # the memory store's one-process warning is expected
    asyncio.run(main(parser.parse_args().seconds))
