"""Realtime benchmark: chatapp against a bare python-socketio server, in one run.

Both servers run as processes of their own on Tornado with the same Redis
message queue; this process is the clients. Measured for each:

- connects per second (chatapp's are authenticated: cookie, signature, store read);
- `prefs:set` round trips per second and their p50/p99 latency, 200 sockets at once
  (chatapp reads the session fresh and writes it through the store);
- push fan-out: one external emit (python-socketio's write-only manager) to the
  rooms of 1,000 connected users; p50/p99 of the time until each has it;
- server memory (RSS) per idle connection, with 2,000 connections held by the lean
  client (bench/lean_client.py): once offering permessage-deflate as every browser
  does, once not, and whether the server took the offer.

    .venv/bin/python bench/realtime.py [--sockets 200] [--fanout 1000] [--idle 2000]
    .venv/bin/python bench/realtime.py --only-idle --idle 10000   # memory alone
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
import socketio
from tornado.web import create_signed_value

from bench.lean_client import LeanSocket
from bench.lean_client import connect as lean_connect
from chatapp.backends import connect_redis
from chatapp.sessions.cookies import COOKIE_NAME
from chatapp.sessions.session import new_session_id
from stores.redis import RedisSessionStore
from tests.processes import ROOT, AppProcess
from tests.servers import free_port, redis_server, wait_for_port

SECRET = "s" * 48  # what AppProcess gives run.py


class Target:
    """One server under test and how a client connects to it."""

    def __init__(
        self, name: str, url: str, pid: int, auth: Callable[[int], Awaitable[dict[str, Any]]]
    ):
        self.name, self.url, self.pid, self.auth = name, url, pid, auth

    async def lean(self, http: aiohttp.ClientSession, user: int, deflate: bool) -> LeanSocket:
        given = await self.auth(user)
        headers, auth = given.get("headers"), given.get("auth")
        return await lean_connect(http, self.url, deflate=deflate, headers=headers, auth=auth)

    async def connect(self, user: int) -> socketio.AsyncClient:
        client = socketio.AsyncClient(reconnection=False)
        options = await self.auth(user)
        await client.connect(self.url, transports=["websocket"], wait_timeout=10, **options)
        return client

    def rss_kib(self) -> int:
        status = Path(f"/proc/{self.pid}/status").read_text()
        return int(
            next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1]
        )


async def connect_many(
    target: Target, users: range, parallel: int = 20
) -> list[socketio.AsyncClient]:
    clients: list[socketio.AsyncClient] = []
    gate = asyncio.Semaphore(parallel)

    async def one(user: int) -> None:
        async with gate:
            clients.append(await target.connect(user))

    await asyncio.gather(*(one(u) for u in users))
    return clients


async def close_all(clients: list[socketio.AsyncClient]) -> None:
    await asyncio.gather(*(c.disconnect() for c in clients), return_exceptions=True)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def connects_per_second(target: Target, count: int) -> float:
    started = time.perf_counter()
    clients = await connect_many(target, range(count))
    rate = count / (time.perf_counter() - started)
    await close_all(clients)
    return rate


async def round_trips(target: Target, sockets: int, per_socket: int) -> tuple[float, float, float]:
    clients = await connect_many(target, range(sockets))
    latencies: list[float] = []

    async def run(client: socketio.AsyncClient, i: int) -> None:
        for n in range(per_socket):
            sent = time.perf_counter()
            ack = await client.call(
                "prefs:set", {"theme": "dark" if (i + n) % 2 else "light"}, timeout=30
            )
            latencies.append(time.perf_counter() - sent)
            assert ack["ok"], ack

    started = time.perf_counter()
    await asyncio.gather(*(run(c, i) for i, c in enumerate(clients)))
    rate = len(latencies) / (time.perf_counter() - started)
    await close_all(clients)
    return rate, percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000


async def fan_out(target: Target, users: int, redis_url: str) -> tuple[float, float]:
    clients = await connect_many(target, range(users))
    arrived: list[float] = []
    done = asyncio.Event()

    def receive(_: Any) -> None:
        arrived.append(time.perf_counter())
        if len(arrived) == users:
            done.set()

    for client in clients:
        client.on("notification", receive)
    emitter = socketio.AsyncRedisManager(redis_url, write_only=True)
    await asyncio.sleep(0.5)  # let every socket settle in its rooms
    sent = time.perf_counter()
    await emitter.emit("notification", {"kind": "bench"}, room=[f"user:u{u}" for u in range(users)])
    try:
        await asyncio.wait_for(done.wait(), timeout=60)
    except TimeoutError:
        raise RuntimeError(
            f"{target.name}: {len(arrived)} of {users} sockets got the push"
        ) from None
    delays = [(t - sent) * 1000 for t in arrived]
    await close_all(clients)
    return percentile(delays, 50), percentile(delays, 99)


async def memory_per_connection(target: Target, count: int, deflate: bool) -> tuple[float, bool]:
    """Server RSS per idle connection, and whether the server compresses them."""
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        gate = asyncio.Semaphore(50)

        async def one(user: int) -> LeanSocket:
            async with gate:
                try:
                    return await target.lean(http, user, deflate)
                except (TimeoutError, RuntimeError, aiohttp.ClientError) as exc:
                    raise RuntimeError(f"{target.name}: socket {user}: {exc!r}") from None

        sockets = [await one(10_000 + n) for n in range(20)]  # warm-up
        await asyncio.sleep(1.0)
        before = target.rss_kib()
        sockets += await asyncio.gather(*(one(u) for u in range(count)))
        await asyncio.sleep(2.0)
        per_connection = (target.rss_kib() - before) * 1024 / count
        compressed = all(s.compressed for s in sockets)
        await asyncio.gather(*(s.close() for s in sockets), return_exceptions=True)
    await asyncio.sleep(count / 500)  # the server's goodbyes (presence, rooms) settle first
    return per_connection, compressed


async def throughput(target: Target, args: argparse.Namespace, redis_url: str) -> dict[str, float]:
    figures = {"connects/s": await connects_per_second(target, args.sockets)}
    rate, p50, p99 = await round_trips(target, args.sockets, args.round_trips)
    figures.update({"prefs:set/s": rate, "prefs:set p50 ms": p50, "prefs:set p99 ms": p99})
    p50, p99 = await fan_out(target, args.fanout, redis_url)
    figures.update({"fan-out p50 ms": p50, "fan-out p99 ms": p99})
    return figures


def idle(deflate: bool) -> Phase:
    async def phase(target: Target, args: argparse.Namespace, _: str) -> dict[str, float]:
        per_connection, compressed = await memory_per_connection(target, args.idle, deflate)
        if not deflate:
            return {"RSS B/conn": per_connection}
        return {"RSS B/conn, deflate offered": per_connection, "deflate taken (1/0)": compressed}

    return phase


Phase = Callable[[Target, argparse.Namespace, str], Awaitable[dict[str, float]]]


def quiet_unclosed_sessions(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    # python-engineio's client leaves its aiohttp session to the garbage collector.
    if "Unclosed" not in context.get("message", ""):
        loop.default_exception_handler(context)


def start_bare_server(redis_url: str) -> tuple[subprocess.Popen[bytes], int]:
    """The reference server (bench/bare_socketio_server.py) and its port, once it listens."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "bare_socketio_server.py"), str(port), redis_url],
        stdout=subprocess.DEVNULL,
    )
    wait_for_port(port)
    return server, port


async def main(args: argparse.Namespace) -> None:
    """Each phase on a fresh pair of servers: memory freed by one phase is not the next's."""
    asyncio.get_running_loop().set_exception_handler(quiet_unclosed_sessions)
    phases = [idle(False), idle(True)] if args.only_idle else [throughput, idle(False), idle(True)]
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as scratch, redis_server(Path(scratch) / "redis") as redis:
        sessions = RedisSessionStore(
            connect_redis(redis.url, 5), idle_timeout=1800, absolute_timeout=7 * 86400
        )
        cookies: dict[int, str] = {}

        async def chatapp_auth(user: int) -> dict[str, Any]:
            if user not in cookies:
                # A session names its user by id; prefs:set never needs more of the user.
                record = await sessions.create(new_session_id(), {"user_id": f"u{user}"})
                cookies[user] = create_signed_value(SECRET, COOKIE_NAME, record.id).decode()
            return {"headers": {"Cookie": f"{COOKIE_NAME}={cookies[user]}"}}

        async def bare_auth(user: int) -> dict[str, Any]:
            return {"auth": {"user": f"u{user}"}}

        settings = (
            f"[session]\nstore = redis\n[redis]\nurl = {redis.url}\n"
            f"[socketio]\nmessage_queue = {redis.url}\nmax_sockets_per_user = 1000\n"
            "events_per_second = 1000\nevent_burst = 1000\n"
        )
        for n, phase in enumerate(phases):
            bare, bare_port = start_bare_server(redis.url)
            chatapp = AppProcess(Path(scratch) / f"chatapp{n}", settings)
            try:
                targets = [
                    Target("bare", f"http://127.0.0.1:{bare_port}", bare.pid, bare_auth),
                    Target("chatapp", chatapp.wait_listening(), chatapp.process.pid, chatapp_auth),
                ]
                for target in targets:
                    figures = await phase(target, args, redis.url)
                    results.setdefault(target.name, {}).update(figures)
            finally:
                chatapp.stop()
                bare.terminate()
                bare.wait(timeout=10)
        await sessions.close()
    report(results)


def report(results: dict[str, dict[str, float]]) -> None:
    bare, ours = results.values()
    print(f"{'measure':<28} {'bare':>12} {'chatapp':>12} {'chatapp/bare':>13}")
    for key in bare:
        ratio = f"{ours[key] / bare[key]:>13.2f}" if bare[key] else f"{'-':>13}"
        print(f"{key:<28} {bare[key]:>12,.1f} {ours[key]:>12,.1f} {ratio}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=200)
    parser.add_argument("--round-trips", type=int, default=20, help="per socket")
    parser.add_argument("--fanout", type=int, default=1000)
    parser.add_argument("--idle", type=int, default=2000)
    parser.add_argument("--only-idle", action="store_true", help="measure idle memory only")
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    asyncio.run(main(parser.parse_args()))
