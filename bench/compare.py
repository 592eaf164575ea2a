"""chatapp against the bare stack it is built on, Node and Flask, in one run.

    .venv/bin/python bench/compare.py                    # every target, every scenario
    .venv/bin/python bench/compare.py --targets bare,chatapp-memory --scenarios http

Each target (bench/targets.py) runs alone, pinned to core 0, started fresh
for each group of scenarios; the load comes from core 1: `wrk` with
bench/wrk/api.lua for HTTP, the lean client (bench/lean_client.py) for
sockets. Every figure is printed beside the bare stack's from the same run,
the load generator's CPU share beside it (a figure whose load generator was
busy most of the time is marked "client-bound"), and everything goes to
bench/results/compare-<time>.json. docs/PERFORMANCE.md explains the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp

from bench.lean_client import LeanSocket
from bench.lean_client import connect as lean_connect
from bench.targets import ROOT, Target, User, build_targets, load_cores, pinned
from tests.servers import redis_server

ALL_TARGETS = "bare,node,flask,chatapp-memory,chatapp-redis,chatapp-file"
#: A load generator busy this share of the wall time or more may be the limit.
CLIENT_BOUND = 0.9
#: How long a fan-out's target is watched doing nothing first, for its idle CPU.
IDLE_SECONDS = 3.0
#: Figures about the measurement itself, not the target: shown without a ratio.
UNRATIOED = ("client cpu", "server cpu", "errors")
Figures = dict[str, float]


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


class Run:
    """One target started, with its users signed in, and the scenarios run on it."""

    def __init__(self, target: Target, http: aiohttp.ClientSession, args: argparse.Namespace):
        self.target, self.http, self.args = target, http, args
        self.users: list[User] = []

    async def sign_in(self, count: int) -> None:
        gate = asyncio.Semaphore(20)

        async def one(n: int) -> User:
            async with gate:
                return await self.target.sign_in(self.http, f"user{n:05d}")

        self.users = list(await asyncio.gather(*(one(n) for n in range(count))))

    async def lag_p99(self) -> float:
        return percentile(await self.target.loop_lag(self.http), 99)

    async def sockets(
        self, users: list[User], parallel: int = 20, deflate: bool = False, **options: Any
    ) -> list[LeanSocket]:
        gate = asyncio.Semaphore(parallel)

        async def one(user: User) -> LeanSocket:
            async with gate:
                return await lean_connect(
                    self.target.url, headers=user.headers(), deflate=deflate, **options
                )

        return list(await asyncio.gather(*(one(u) for u in users)))

    # -- HTTP ------------------------------------------------------------------------------

    def wrk(self, method: str, path: str, bodies: str = "") -> Figures:
        users_file = self.target.workdir / "users.tsv"
        users_file.write_text("".join(f"{u.headers()['Cookie']}\t{u.xsrf}\n" for u in self.users))
        command = [
            "wrk", "-t1", f"-c{self.args.connections}", f"-d{self.args.seconds}s",
            "-s", str(ROOT / "bench/wrk/api.lua"), self.target.url,
            "--", str(users_file), method, path, bodies,
        ]  # fmt: skip
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        server_cpu, started = self.target.cpu_seconds(), time.perf_counter()
        output = subprocess.run(
            pinned(command, load_cores()), capture_output=True, text=True, check=True, timeout=120
        ).stdout
        wall = time.perf_counter() - started
        server_cpu = self.target.cpu_seconds() - server_cpu
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        result = json.loads(output.strip().splitlines()[-1])
        client_cpu = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) / wall
        return {
            "req/s": result["requests"] / result["seconds"],
            "p99 ms": result["p99_ms"],
            "errors": result["errors"] + result["non_2xx"],
            "server CPU µs/req": server_cpu / result["requests"] * 1e6,
            "server cpu": server_cpu / wall,
            "client cpu": client_cpu,
        }

    async def http(self) -> dict[str, Figures]:
        figures: dict[str, Figures] = {}
        for name, method, path, bodies in (
            ("GET /api/session", "GET", "/api/session", ""),
            ("PUT /api/prefs", "PUT", "/api/prefs", '{"theme":"dark"}|{"theme":"light"}'),
        ):
            await self.lag_p99()  # start the lag window afresh
            figures[name] = await asyncio.to_thread(self.wrk, method, path, bodies)
            figures[name]["lag p99 ms"] = await self.lag_p99()
        return figures

    # -- sockets ---------------------------------------------------------------------------

    async def socket_events(self) -> dict[str, Figures]:
        figures: dict[str, Figures] = {}
        users = self.users[: self.args.sockets]
        cpu, started = time.process_time(), time.perf_counter()
        sockets = await self.sockets(users)
        wall = time.perf_counter() - started
        figures["socket connects"] = {
            "connects/s": len(sockets) / wall,
            "client cpu": (time.process_time() - cpu) / wall,
        }
        for event, data in (("session:get", None), ("prefs:set", "theme")):
            figures[event] = await self.round_trips(sockets, event, data)
        await asyncio.gather(*(s.close() for s in sockets))
        return figures

    async def round_trips(self, sockets: list[LeanSocket], event: str, data: Any) -> Figures:
        latencies: list[float] = []
        stop_at = time.perf_counter() + self.args.seconds

        async def loop(socket: LeanSocket, n: int) -> None:
            while time.perf_counter() < stop_at:
                payload = {"theme": "dark" if n % 2 else "light"} if data else None
                sent = time.perf_counter()
                answer = await socket.call(event, payload)
                latencies.append(time.perf_counter() - sent)
                if not answer.get("ok"):
                    raise RuntimeError(f"{self.target.name}: {event} answered {answer}")
                n += 1

        await self.lag_p99()
        server_cpu, cpu, started = (
            self.target.cpu_seconds(),
            time.process_time(),
            time.perf_counter(),
        )
        profilers = self.profilers(event.replace(":", "-"))
        await asyncio.gather(*(loop(s, i) for i, s in enumerate(sockets)))
        wall = time.perf_counter() - started
        server_cpu = self.target.cpu_seconds() - server_cpu
        self.stop(profilers)
        return {
            "acks/s": len(latencies) / wall,
            "p99 ms": percentile(latencies, 99) * 1000,
            "lag p99 ms": await self.lag_p99(),
            "server CPU µs/ack": server_cpu / len(latencies) * 1e6,
            "server cpu": server_cpu / wall,
            "client cpu": (time.process_time() - cpu) / wall,
        }

    async def fan_out(self) -> dict[str, Figures]:
        """An author with `--friends` friends online posts; each post timed to its last delivery."""
        author, friends = self.users[0], self.users[1 : self.args.friends + 1]
        gate = asyncio.Semaphore(20)

        async def befriend(friend: User) -> None:
            async with gate:
                await self.target.befriend(self.http, author, friend)

        await asyncio.gather(*(befriend(f) for f in friends))
        arrivals: dict[str, list[float]] = {}
        notified: dict[str, int] = {}
        everyone_has_it = asyncio.Event()

        def receive(event: str, data: Any) -> None:
            if event == "feed:post":
                arrivals.setdefault(data["id"], []).append(time.perf_counter())
            elif event == "notification":
                key = str(data.get("post_id"))
                notified[key] = notified.get(key, 0) + 1
            else:
                return
            post_id = data["id"] if event == "feed:post" else str(data.get("post_id"))
            if len(arrivals.get(post_id, ())) == len(friends) == notified.get(post_id):
                everyone_has_it.set()

        sockets = await self.sockets(friends, on_event=receive)
        await asyncio.sleep(1.0)
        await self.lag_p99()
        idle = await self.idle_cpu_rate()
        answers, firsts, lasts, cpu, loop_cpu, windows = [], [], [], 0.0, 0.0, 0.0
        client_cpu, started = time.process_time(), time.perf_counter()
        profilers = self.profilers("fanout")
        for n in range(self.args.posts):
            everyone_has_it.clear()
            cpu_before, sent = self.target.cpu_seconds(), time.perf_counter()
            loop_cpu_before = self.target.cpu_seconds(main_thread_only=True)
            async with self.http.post(
                f"{self.target.url}/api/posts", json={"text": f"post {n}"}, headers=author.headers()
            ) as response:
                body = await response.json()
                answers.append(time.perf_counter() - sent)
                if response.status != 201:
                    raise RuntimeError(f"{self.target.name}: post {response.status} {body}")
            await asyncio.wait_for(everyone_has_it.wait(), timeout=60)
            lasts.append(max(arrivals[body["post"]["id"]]) - sent)
            firsts.append(min(arrivals[body["post"]["id"]]) - sent)
            await asyncio.sleep(0.2)  # the server finishes what follows the last delivery
            cpu += self.target.cpu_seconds() - cpu_before
            loop_cpu += self.target.cpu_seconds(main_thread_only=True) - loop_cpu_before
            windows += time.perf_counter() - sent
        client_cpu = (time.process_time() - client_cpu) / (time.perf_counter() - started)
        self.stop(profilers)
        await asyncio.gather(*(s.close() for s in sockets))
        return {
            f"post to {len(friends)} friends": {
                "client cpu": client_cpu,
                "first delivery p50 ms": percentile(firsts, 50) * 1000,
                "last delivery p50 ms": percentile(lasts, 50) * 1000,
                "last delivery p99 ms": percentile(lasts, 99) * 1000,
                "HTTP answer p50 ms": percentile(answers, 50) * 1000,
                "server CPU µs/recipient": cpu / self.args.posts / len(friends) * 1e6,
                "of which the loop's thread": loop_cpu / self.args.posts / len(friends) * 1e6,
                "above idle µs/recipient": (cpu - idle * windows)
                / self.args.posts
                / len(friends)
                * 1e6,
                "idle server CPU ms/s": idle * 1000,
                "lag p99 ms": await self.lag_p99(),
            }
        }

    async def room_fan_out(self) -> dict[str, Figures]:
        """`room:send` to a room of `--members` (chatapp only: the references have no rooms),
        each message timed from the send to its last delivery. `--scenarios fanout,rooms
        --friends 100` puts a post to as many friends beside it."""
        owner, members = self.users[0], self.users[1 : self.args.members]
        gate = asyncio.Semaphore(20)

        async def befriend(friend: User) -> None:
            async with gate:
                await self.target.befriend(self.http, owner, friend)

        await asyncio.gather(*(befriend(m) for m in members))
        names = [m.username for m in members]
        async with self.http.post(
            f"{self.target.url}/api/rooms",
            json={"name": "bench", "members": names},
            headers=owner.headers(),
        ) as response:
            room = (await response.json())["room"]["id"]
        arrivals: dict[str, list[float]] = {}
        everyone = asyncio.Event()

        def receive(event: str, data: Any) -> None:
            if event == "room:message":
                arrivals.setdefault(data["text"], []).append(time.perf_counter())
                if len(arrivals[data["text"]]) == len(members):
                    everyone.set()

        sockets = await self.sockets(members, on_event=receive)
        (sender,) = await self.sockets([owner])
        await asyncio.sleep(1.0)
        idle = await self.idle_cpu_rate()
        lasts, cpu, windows = [], 0.0, 0.0
        for n in range(self.args.posts * 3):
            everyone.clear()
            cpu_before, sent = self.target.cpu_seconds(), time.perf_counter()
            ack = await sender.call("room:send", {"room": room, "text": f"message {n}"})
            if not ack.get("ok"):
                raise RuntimeError(f"room:send refused: {ack}")
            await asyncio.wait_for(everyone.wait(), timeout=60)
            lasts.append(max(arrivals[f"message {n}"]) - sent)
            await asyncio.sleep(0.1)
            cpu += self.target.cpu_seconds() - cpu_before
            windows += time.perf_counter() - sent
        await asyncio.gather(*(s.close() for s in [*sockets, sender]))
        return {
            f"room:send to {len(members) + 1} members": {
                "last delivery p50 ms": percentile(lasts, 50) * 1000,
                "last delivery p99 ms": percentile(lasts, 99) * 1000,
                "server CPU µs/recipient": cpu / len(lasts) / len(members) * 1e6,
                "above idle µs/recipient": (cpu - idle * windows) / len(lasts) / len(members) * 1e6,
            }
        }

    async def idle_cpu_rate(self) -> float:
        """The server's CPU a second with nothing asked of it but what stays (its sockets'
        heartbeats, the lag probe waking it every 10 ms: 1 to 2 % of a core on this
        machine, for every target), taken off a fan-out's CPU as "above idle"."""
        cpu, started = self.target.cpu_seconds(), time.perf_counter()
        await asyncio.sleep(IDLE_SECONDS)
        return (self.target.cpu_seconds() - cpu) / (time.perf_counter() - started)

    @staticmethod
    def stop(profilers: list[subprocess.Popen[bytes]]) -> None:
        for profiler in profilers:
            profiler.send_signal(signal.SIGINT)
            profiler.wait(timeout=60)
            if profiler.args[0] == "perf":
                summarise_perf(Path(profiler.args[-1]))

    def profilers(self, scenario: str) -> list[subprocess.Popen[bytes]]:
        """py-spy sampling a Python target while it holds the GIL (`--profile DIR`): a
        flame graph (DIR/<scenario>-<target>.svg) and its collapsed stacks (.txt); with
        `--perf`, perf sampling the whole process instead, the kernel included (.perf, and
        its split by library and system call in .perf.txt)."""
        if self.args.profile is None or (self.target.name == "node" and not self.args.perf):
            return []
        self.args.profile.mkdir(parents=True, exist_ok=True)
        out = self.args.profile / f"{scenario}-{self.target.name}"
        if self.args.perf:
            record = ["perf", "record", "-F", "2000", "-g", "-p", str(self.target.pid)]
            return [subprocess.Popen([*record, "-o", f"{out}.perf"], stderr=subprocess.DEVNULL)]
        py_spy = str(Path(sys.executable).parent / "py-spy")
        pid = str(self.target.pid)
        sample = [py_spy, "record", "--pid", pid, "--rate", "500", "--gil", "--threads"]
        return [
            subprocess.Popen(
                [*sample, "--nonblocking", "--format", kind, "--output", f"{out}.{suffix}"],
                stdout=subprocess.DEVNULL,
            )
            for kind, suffix in (("flamegraph", "svg"), ("raw", "txt"))
        ]

    async def logins(self) -> dict[str, Figures]:
        """IOLoop lag while every user logs in at once (argon2id at production's setting),
        with `--sockets` live sockets, each asking `session:get` once a second."""
        if not self.target.is_chatapp:
            return {}
        users = self.users
        sockets = await self.sockets([users[n % len(users)] for n in range(self.args.sockets)])
        done = asyncio.Event()

        async def busy(socket: LeanSocket, n: int) -> None:
            await asyncio.sleep(n / len(sockets))  # spread over the second
            while not done.is_set():
                await socket.call("session:get")
                await asyncio.sleep(1.0)

        load = [asyncio.create_task(busy(s, n)) for n, s in enumerate(sockets)]
        await asyncio.sleep(1.0)
        await self.lag_p99()
        started = time.perf_counter()
        answers = await asyncio.gather(*(self.target.log_in(self.http, u.username) for u in users))
        wall = time.perf_counter() - started
        took = [seconds for seconds in answers if seconds is not None]
        lag = await self.target.loop_lag(self.http)
        done.set()
        await asyncio.gather(*load)
        await asyncio.gather(*(s.close() for s in sockets))
        name = f"{len(users)} logins at once, argon2id, {len(sockets)} live sockets"
        return {
            name: {
                "lag p99 ms": percentile(lag, 99),
                "lag max ms": max(lag, default=0.0),
                "login p50 ms": percentile(took, 50) * 1000,
                "login p99 ms": percentile(took, 99) * 1000,
                "refused 503 busy": len(answers) - len(took),
                "all answered, s": wall,
            }
        }

    async def idle_memory(self) -> dict[str, Figures]:
        """Server RSS per idle socket, the client offering permessage-deflate as browsers do."""
        users = self.users[: self.args.idle]
        warm = await self.sockets(users[:20], deflate=True)
        await asyncio.sleep(1.0)
        before = self.target.rss_kib()
        held = await self.sockets(users[20:], parallel=50, deflate=True)
        await asyncio.sleep(2.0)
        after = self.target.rss_kib()
        per_socket = (after - before) * 1024 / len(held)
        compressed = sum(s.compressed for s in held) / len(held)
        await asyncio.gather(*(s.close() for s in warm + held))
        return {
            f"{len(users)} idle sockets, deflate offered": {
                "kB/socket": per_socket / 1000,
                "server RSS MB": after * 1024 / 1e6,
                "deflate taken": compressed,
            }
        }


def summarise_perf(recording: Path) -> None:
    """Where a perf recording's CPU went: by library (the kernel apart), and by system
    call and soft interrupt with what they called (loopback TCP delivers to the reader
    in the writer's soft interrupt: the reader's half of a send is billed to the sender)."""
    report = ["perf", "report", "-i", str(recording), "--stdio", "-g", "none"]
    by_library = subprocess.run(
        [*report, "--no-children", "--sort", "dso"], capture_output=True, text=True, check=True
    ).stdout
    by_call = subprocess.run(
        [*report, "--children", "--sort", "sym"], capture_output=True, text=True, check=True
    ).stdout
    lines = [line for line in by_library.splitlines() if "%" in line and not line.startswith("#")]
    lines += [line for line in by_call.splitlines() if "__x64_sys_" in line or "softirqs" in line]
    Path(f"{recording}.txt").write_text("\n".join(lines) + "\n")


Scenario = Callable[[Run], Awaitable[dict[str, Figures]]]


@dataclass(frozen=True)
class Group:
    """Scenarios run on one freshly started target, and the users they need signed in."""

    users: Callable[[argparse.Namespace], int]
    steps: list[Scenario]
    #: chatapp's settings beyond bench.targets.chatapp_settings's.
    chatapp: Callable[[argparse.Namespace], dict[str, Any]] = lambda _: {}


GROUPS: dict[str, Group] = {
    "http": Group(lambda a: a.sockets, [Run.http]),
    "sockets": Group(lambda a: a.sockets, [Run.socket_events]),
    "fanout": Group(lambda a: a.friends + 1, [Run.fan_out]),
    "idle": Group(lambda a: a.idle, [Run.idle_memory]),
    "rooms": Group(lambda a: a.members, [Run.room_fan_out]),
    "logins": Group(lambda a: a.logins, [Run.logins], lambda a: {"fast_hashes": False}),
}


async def measure(args: argparse.Namespace) -> dict[str, dict[str, Figures]]:
    """Every scenario on every target, `--repeat` times in turn; each figure's median."""
    runs: dict[str, dict[str, dict[str, list[float]]]] = {}
    with tempfile.TemporaryDirectory() as scratch, redis_server(Path(scratch) / "redis") as redis:
        for scenario, turn in itertools.product(args.scenarios.split(","), range(args.repeat)):
            group = GROUPS[scenario]
            workdir = Path(scratch) / f"{scenario}-{turn}"
            names = args.targets.split(",")
            if scenario in ("logins", "rooms"):  # chatapp's own: no password, no rooms elsewhere
                names = [name for name in names if name.startswith("chatapp")]
            for target in build_targets(names, workdir, redis.url, **group.chatapp(args)):
                print(f"{scenario} ({turn + 1}/{args.repeat}): {target.name}", file=sys.stderr)
                target.start()
                try:
                    # Cookies are each user's own (bench.targets.User), not a shared jar's.
                    async with aiohttp.ClientSession(
                        connector=aiohttp.TCPConnector(limit=0),
                        cookie_jar=aiohttp.DummyCookieJar(),
                    ) as http:
                        run = Run(target, http, args)
                        await run.sign_in(group.users(args))
                        for step in group.steps:
                            for name, figures in (await step(run)).items():
                                kept = runs.setdefault(target.name, {}).setdefault(name, {})
                                for measure_name, value in figures.items():
                                    kept.setdefault(measure_name, []).append(value)
                finally:
                    target.stop()
    return {
        target: {
            name: {m: statistics.median(values) for m, values in figures.items()}
            for name, figures in scenarios.items()
        }
        for target, scenarios in runs.items()
    }


def cells(results: dict[str, dict[str, Figures]]) -> list[tuple[str, str, list[str]]]:
    """(scenario, figure, one cell per target) rows: the value and its ratio to bare."""
    names = list(results)
    bare = results.get("bare", {})
    rows = []
    for scenario in dict.fromkeys(s for figures in results.values() for s in figures):
        for measure in dict.fromkeys(m for r in results.values() for m in r.get(scenario, {})):
            reference = bare.get(scenario, {}).get(measure)
            row = []
            for name in names:
                value = results[name].get(scenario, {}).get(measure)
                if value is None:
                    row.append("-")
                    continue
                cell = f"{value:,.1f}" if value >= 10 else f"{value:.2f}"
                if measure == "client cpu" and value >= CLIENT_BOUND:
                    cell += " !"
                elif reference and name != "bare" and measure not in UNRATIOED:
                    cell += f" ({value / reference:.2f})"
                row.append(cell)
            rows.append((scenario, measure, row))
    return rows


def report(results: dict[str, dict[str, Figures]], markdown: bool = False) -> str:
    """The figures as a table, plain or Markdown (for docs/PERFORMANCE.md)."""
    names = list(results)
    note = "(x.xx): ratio to bare; '!': the load generator was that busy: its own limit?"
    if markdown:
        lines = [
            "| scenario / figure | " + " | ".join(names) + " |",
            "|---" * (len(names) + 1) + "|",
        ]
        shown = ""
        for scenario, measure, row in cells(results):
            if scenario != shown:
                lines.append(f"| **{scenario}** |" + " |" * len(names))
                shown = scenario
            lines.append(f"| {measure} | " + " | ".join(row) + " |")
        return "\n".join([*lines, "", note])
    lines = [f"{'scenario / figure':<44}" + "".join(f"{n:>16}" for n in names)]
    shown = ""
    for scenario, measure, row in cells(results):
        if scenario != shown:
            lines.append(scenario)
            shown = scenario
        lines.append(f"  {measure:<42}" + "".join(f"{cell:>16}" for cell in row))
    return "\n".join([*lines, note])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", default=ALL_TARGETS)
    parser.add_argument("--scenarios", default=",".join(GROUPS))
    parser.add_argument("--seconds", type=int, default=5, help="per HTTP or socket-event load")
    parser.add_argument("--connections", type=int, default=50, help="wrk's connections")
    parser.add_argument("--sockets", type=int, default=200)
    parser.add_argument("--friends", type=int, default=1000)
    parser.add_argument("--posts", type=int, default=10)
    parser.add_argument("--members", type=int, default=100, help="for the rooms scenario")
    parser.add_argument("--idle", type=int, default=2000)
    parser.add_argument("--logins", type=int, default=50, help="logging in at once")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per target, in turn; figures are medians"
    )
    parser.add_argument("--json", type=Path, help="default: bench/results/compare-<time>.json")
    parser.add_argument(
        "--profile",
        type=Path,
        help="py-spy the fan-outs and socket events: DIR/<scenario>-<target>.svg and .txt",
    )
    parser.add_argument(
        "--perf", action="store_true", help="with --profile: perf instead of py-spy (any target)"
    )
    parser.add_argument("--markdown", action="store_true", help="print the table in Markdown")
    parser.add_argument("--show", type=Path, help="print the table of an earlier run's JSON")
    args = parser.parse_args()
    if args.show:
        print(report(json.loads(args.show.read_text())["results"], args.markdown))
        return
    os.sched_setaffinity(0, load_cores())
    results = asyncio.run(measure(args))
    print(report(results, args.markdown))
    out = args.json or ROOT / "bench/results" / f"compare-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    record = {"args": {k: str(v) for k, v in vars(args).items()} | {"json": str(out)}}
    out.write_text(json.dumps(record | {"results": results}, indent=1))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
