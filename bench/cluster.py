"""Across processes: what a second process adds, measured against one, in one run.

Two run.py processes share a Redis (sessions, the Socket.IO message queue)
and one SQLite file, each pinned to a core of its own; the load generator
runs beside them (this machine has two cores: figures are for comparing the
layouts within one run, not for capacity planning). Each scenario runs
twice: every socket on process A, then the sockets split over A and B.

- fan-out: a post (made through A) to `--friends` online friends; the time
  until the last friend has it, p50 and p99 over `--posts` posts;
- session writes: `prefs:set` from `--sockets` sockets for `--seconds`, with
  the Redis store; acks per second and p99.

    python bench/cluster.py [--friends 1000] [--posts 10] [--sockets 200] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.lean_client import LeanSocket  # noqa: E402
from bench.lean_client import connect as lean_connect  # noqa: E402
from bench.targets import Target, User, build_targets  # noqa: E402
from tests.servers import redis_server  # noqa: E402


def percentile(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100)[int(p) - 1] if len(values) > 1 else values[0]


class Cluster:
    def __init__(self, a: Target, b: Target, http: aiohttp.ClientSession) -> None:
        self.a, self.b, self.http = a, b, http

    def cpu_seconds(self) -> float:
        return self.a.cpu_seconds() + self.b.cpu_seconds()

    async def sign_in(self, count: int) -> list[User]:
        gate = asyncio.Semaphore(20)

        async def one(n: int) -> User:
            async with gate:
                return await self.a.sign_in(self.http, f"user{n:05d}")

        return list(await asyncio.gather(*(one(n) for n in range(count))))

    async def sockets(
        self, users: list[User], split: bool, on_event: Callable[[str, Any], None] | None = None
    ) -> list[LeanSocket]:
        """A socket per user: all on A, or every other one on B."""
        gate = asyncio.Semaphore(20)

        async def one(n: int, user: User) -> LeanSocket:
            target = self.b if split and n % 2 else self.a
            async with gate:
                return await lean_connect(target.url, headers=user.headers(), on_event=on_event)

        return list(await asyncio.gather(*(one(n, u) for n, u in enumerate(users))))


def layout(split: bool) -> str:
    return "split over A and B" if split else "all on A"


async def fan_out(cluster: Cluster, users: list[User], args: argparse.Namespace) -> dict:
    author, friends = users[0], users[1 : args.friends + 1]
    gate = asyncio.Semaphore(20)

    async def befriend(friend: User) -> None:
        async with gate:
            await cluster.a.befriend(cluster.http, author, friend)

    await asyncio.gather(*(befriend(f) for f in friends))
    return {
        f"post to {len(friends)} friends, {layout(split)}": await posts_to(
            cluster, author, friends, split, args.posts
        )
        for split in (False, True)
    }


async def posts_to(
    cluster: Cluster, author: User, friends: list[User], split: bool, posts: int
) -> dict[str, float]:
    """`posts` posts by `author` (through A), each timed until its last friend has it."""
    arrivals: dict[str, list[float]] = {}
    everyone = asyncio.Event()

    def receive(event: str, data: Any) -> None:
        if event == "feed:post":
            arrivals.setdefault(data["id"], []).append(time.perf_counter())
            if len(arrivals[data["id"]]) == len(friends):
                everyone.set()

    sockets = await cluster.sockets(friends, split, on_event=receive)
    await asyncio.sleep(1.0)
    lasts, answers, cpu = [], [], 0.0
    for n in range(posts):
        everyone.clear()
        cpu_before, sent = cluster.cpu_seconds(), time.perf_counter()
        async with cluster.http.post(
            f"{cluster.a.url}/api/posts", json={"text": f"post {n}"}, headers=author.headers()
        ) as response:
            body = await response.json()
            answers.append(time.perf_counter() - sent)
        await asyncio.wait_for(everyone.wait(), timeout=60)
        lasts.append(max(arrivals[body["post"]["id"]]) - sent)
        await asyncio.sleep(0.3)  # what follows the last delivery is counted too
        cpu += cluster.cpu_seconds() - cpu_before
    await asyncio.gather(*(s.close() for s in sockets))
    return {
        "last delivery p50 ms": percentile(lasts, 50) * 1000,
        "last delivery p99 ms": percentile(lasts, 99) * 1000,
        "HTTP answer p50 ms": percentile(answers, 50) * 1000,
        "server CPU µs/recipient": cpu / posts / len(friends) * 1e6,
    }


async def session_writes(cluster: Cluster, users: list[User], args: argparse.Namespace) -> dict:
    writers = users[: args.sockets]
    return {
        f"prefs:set from {len(writers)} sockets, {layout(split)}": await writes_from(
            cluster, writers, split, args.seconds
        )
        for split in (False, True)
    }


async def writes_from(
    cluster: Cluster, writers: list[User], split: bool, seconds: float
) -> dict[str, float]:
    sockets = await cluster.sockets(writers, split)
    latencies: list[float] = []
    stop_at = time.perf_counter() + seconds

    async def loop(socket: LeanSocket, n: int) -> None:
        while time.perf_counter() < stop_at:
            sent = time.perf_counter()
            answer = await socket.call("prefs:set", {"theme": "dark" if n % 2 else "light"})
            latencies.append(time.perf_counter() - sent)
            if not answer.get("ok"):
                raise RuntimeError(f"prefs:set answered {answer}")
            n += 1

    cpu_before, started = cluster.cpu_seconds(), time.perf_counter()
    await asyncio.gather(*(loop(s, i) for i, s in enumerate(sockets)))
    wall = time.perf_counter() - started
    cpu = cluster.cpu_seconds() - cpu_before
    await asyncio.gather(*(s.close() for s in sockets))
    return {
        "acks/s": len(latencies) / wall,
        "p99 ms": percentile(latencies, 99) * 1000,
        "server CPU µs/ack": cpu / len(latencies) * 1e6,
    }


async def measure(args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory() as scratch, redis_server(Path(scratch) / "redis") as redis:
        shared = {"database": f"sqlite:///{scratch}/shared.sqlite3", "message_queue": redis.url}
        a, b = (
            build_targets(["chatapp-redis"], Path(scratch) / name, redis.url, **shared)[0]
            for name in ("a", "b")
        )
        a.core, b.core = 0, 1
        results: dict = {}
        for target in (a, b):
            target.start()
        try:
            async with aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0), cookie_jar=aiohttp.DummyCookieJar()
            ) as http:
                cluster = Cluster(a, b, http)
                users = await cluster.sign_in(max(args.friends + 1, args.sockets))
                results.update(await fan_out(cluster, users, args))
                results.update(await session_writes(cluster, users, args))
        finally:
            a.stop()
            b.stop()
        return results


def report(results: dict) -> str:
    lines = []
    for name, figures in results.items():
        cells = ", ".join(f"{k} {v:,.1f}" for k, v in figures.items())
        lines.append(f"{name}: {cells}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--friends", type=int, default=1000)
    parser.add_argument("--posts", type=int, default=10)
    parser.add_argument("--sockets", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=5)
    args = parser.parse_args()
    results = asyncio.run(measure(args))
    print(report(results))
    out = ROOT / "bench/results" / f"cluster-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"args": vars(args), "results": results}, indent=1))
    print(f"(saved to {out.relative_to(ROOT)})", file=sys.stderr)


if __name__ == "__main__":
    main()
