"""Social benchmark: posts fanned out to online friends, and feed reads, per data backend.

For SQLite and for MongoDB (SecantusDB, or a real mongod with
CHATAPP_TEST_MONGODB_URL), a `run.py` process with an author and F online
friends (one socket each, F = 100 and 1,000): the author posts one post after
another over HTTP; for each, the time until the *last* friend's socket has
the `feed:post`. Then feed pages read per second by one friend, 10 at a
time, next to a bare Tornado handler serving a page of the same shape, in
the same run.

    .venv/bin/python bench/social.py [--friends 100 1000] [--posts 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import socketio
from tornado.httpclient import AsyncHTTPClient

from bench.compare import percentile
from bench.targets import build_targets
from chatapp.sessions.cookies import COOKIE_NAME
from tests.client import Browser
from tests.processes import FAST_HASHES, AppProcess
from tests.servers import redis_server, secantus_server

PASS_PHRASE = "bench-pass-phrase"  # for throwaway bench accounts


async def gather_limited(jobs: list[Any], parallel: int = 20) -> list[Any]:
    gate = asyncio.Semaphore(parallel)

    async def one(job: Any) -> Any:
        async with gate:
            return await job

    return await asyncio.gather(*(one(j) for j in jobs))


async def sign_up(url: str, name: str) -> str:
    """The session cookie of a new user."""
    browser = Browser(url)
    response = await browser.request(
        "POST", "/api/signup", {"username": name, "password": PASS_PHRASE}
    )
    assert response.code == 201, response.body
    browser.close()
    return browser.cookies[COOKIE_NAME]


async def as_user(url: str, cookie: str, method: str, path: str, body: Any = None) -> Any:
    browser = Browser(url)
    browser.cookies[COOKIE_NAME] = cookie
    response = await browser.request(method, path, body)
    browser.close()
    return response


async def fan_out(url: str, friends: int, posts: int, tag: str) -> tuple[dict[str, float], str]:
    """Figures for posts to `friends` online friends, and one friend's cookie."""
    author = await sign_up(url, f"author_{tag}")
    names = [f"f{tag}_{i}" for i in range(friends)]
    cookies = await gather_limited([sign_up(url, n) for n in names])
    await gather_limited([as_user(url, c, "POST", f"/api/friends/author_{tag}") for c in cookies])
    await gather_limited([as_user(url, author, "POST", f"/api/friends/{n}") for n in names])
    arrivals: dict[str, list[float]] = {}

    def record(post: dict[str, Any]) -> None:
        arrivals.setdefault(post["id"], []).append(time.perf_counter())

    async def connect(cookie: str) -> socketio.AsyncClient:
        client = socketio.AsyncClient(reconnection=False)
        client.on("feed:post", record)
        await client.connect(
            url,
            headers={"Cookie": f"{COOKIE_NAME}={cookie}"},
            transports=["websocket"],
            wait_timeout=10,
        )
        return client

    clients = await gather_limited([connect(c) for c in cookies])
    delays = []
    started = time.perf_counter()
    for i in range(posts):
        sent = time.perf_counter()
        response = await as_user(url, author, "POST", "/api/posts", {"text": f"post {i}"})
        post_id = json.loads(response.body)["post"]["id"]
        deadline = time.monotonic() + 60
        while len(arrivals.get(post_id, ())) < friends:
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {len(arrivals.get(post_id, ()))} of {friends} got it")
            await asyncio.sleep(0.002)
        delays.append((max(arrivals[post_id]) - sent) * 1000)
    rate = posts / (time.perf_counter() - started)
    await asyncio.gather(*(c.disconnect() for c in clients), return_exceptions=True)
    figures = {
        "posts/s": rate,
        "last friend p50 ms": percentile(delays, 50),
        "last friend p99 ms": percentile(delays, 99),
    }
    return figures, cookies[0]


async def reads_per_second(url: str, path: str, cookie: str | None, seconds: float = 3.0) -> float:
    http = AsyncHTTPClient(force_instance=True, max_clients=10)
    headers = {"Cookie": f"{COOKIE_NAME}={cookie}"} if cookie else {}
    count = 0
    stop = time.perf_counter() + seconds

    async def reader() -> None:
        nonlocal count
        while time.perf_counter() < stop:
            response = await http.fetch(url + path, headers=headers, request_timeout=10)
            assert response.code == 200
            count += 1

    started = time.perf_counter()
    await asyncio.gather(*(reader() for _ in range(10)))
    http.close()
    return count / (time.perf_counter() - started)


def quiet_unclosed_sessions(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    # python-engineio's client leaves its aiohttp session to the garbage collector.
    if "Unclosed" not in context.get("message", ""):
        loop.default_exception_handler(context)


async def main(args: argparse.Namespace) -> None:
    asyncio.get_running_loop().set_exception_handler(quiet_unclosed_sessions)
    with tempfile.TemporaryDirectory() as scratch, redis_server(Path(scratch) / "r") as redis:
        root = Path(scratch)
        mongo_url = os.environ.get("CHATAPP_TEST_MONGODB_URL")
        with secantus_server(root / "mongo", "chatapp_bench") as local_mongo:
            backends = {
                "sqlite": "sqlite:///var/bench.sqlite3",
                "mongodb": mongo_url or local_mongo,
            }
            (bare,) = build_targets(["bare"], root / "bare", redis.url)
            bare.start()
            bare_reads = await reads_per_second(bare.url, "/api/feed", None)
            print(f"bare Tornado handler, a page of 20 posts: {bare_reads:,.0f} reads/s\n")
            print(
                f"{'backend':<9} {'friends':>7} {'posts/s':>8} {'last p50 ms':>12} "
                f"{'last p99 ms':>12} {'feed reads/s':>13} {'vs bare':>8}"
            )
            for name, database in backends.items():
                settings = (
                    f"[session]\nstore = memory\n[database]\nurl = {database}\n"
                    + FAST_HASHES
                    + "[socketio]\nevents_per_second = 1000\n"
                    # one author posts back to back, friends are made in bulk: no budgets
                    "[limits]\nposts_per_minute = 100000\nfriend_actions_per_minute = 100000\n"
                )
                app = AppProcess(root / name, settings)
                try:
                    url = app.wait_listening()
                    for friends in args.friends:
                        figures, reader = await fan_out(
                            url, friends, args.posts, f"{name[0]}{friends}"
                        )
                        reads = await reads_per_second(url, "/api/feed", reader)
                        print(
                            f"{name:<9} {friends:>7} {figures['posts/s']:>8.1f} "
                            f"{figures['last friend p50 ms']:>12.1f} "
                            f"{figures['last friend p99 ms']:>12.1f} {reads:>13,.0f} "
                            f"{reads / bare_reads:>8.2f}",
                            flush=True,
                        )
                finally:
                    app.stop()
            bare.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--friends", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--posts", type=int, default=20)
    asyncio.run(main(parser.parse_args()))
