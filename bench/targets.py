"""The servers bench/compare.py measures, each a process of its own pinned to one core.

- `bare`: bench/reference/bare.py, Tornado + python-socketio with a dict for
  sessions, the limit anything built on them can reach;
- `node`: bench/reference/node/server.js, express-session + socket.io;
- `flask`: bench/reference/flask_app.py, Flask-Session (Redis) + Flask-SocketIO (gevent);
- `chatapp-memory`, `chatapp-redis`, `chatapp-file`: run.py with that session store.

Every target serves the same part of the API (bench/reference/bare.py says
which), so one client drives them all. The references log nobody in for real
(no password); chatapp's users sign up with argon2id at its cheapest, since
logins are not what these figures are about.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import aiohttp

from tests.processes import FAST_HASHES, stop
from tests.servers import free_port

ROOT = Path(__file__).resolve().parent.parent
LISTENING = re.compile(r"listening on (http://\S+)")
#: Every benchmark user's password: made afresh for each run, on servers that live for it.
PASSWORD = secrets.token_urlsafe(16)
#: The core the server runs on; the load generators get the others.
SERVER_CORE = 0


def pinned(command: list[str], cores: set[int]) -> list[str]:
    """The command run on these cores, where the machine has more than one."""
    if (os.cpu_count() or 1) < 2 or not shutil.which("taskset"):
        return command
    return ["taskset", "-c", ",".join(map(str, sorted(cores))), *command]


def load_cores() -> set[int]:
    return set(range(os.cpu_count() or 1)) - {SERVER_CORE} or {SERVER_CORE}


@dataclass
class User:
    """A logged-in user as a client holds it: cookies and the XSRF token."""

    username: str
    cookies: dict[str, str] = field(default_factory=dict)
    xsrf: str = ""

    def headers(self) -> dict[str, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if self.xsrf:
            headers["X-XSRFToken"] = self.xsrf
        return headers

    def keep(self, response: aiohttp.ClientResponse) -> None:
        for header in response.headers.getall("Set-Cookie", []):
            for name, morsel in SimpleCookie(header).items():
                if morsel.value:
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)


@dataclass
class Target:
    name: str
    command: list[str]
    workdir: Path
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    url: str = ""
    core: int = SERVER_CORE

    @property
    def is_chatapp(self) -> bool:
        return self.name.startswith("chatapp")

    def start(self, limit: float = 30) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = self.workdir / "server.log"
        with log.open("wb") as output:
            self.process = subprocess.Popen(
                pinned(self.command, {self.core}),
                cwd=self.workdir,
                env={**os.environ, **self.env},
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            match = LISTENING.search(log.read_text(errors="replace"))
            if match:
                self.url = match.group(1)
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} did not start: {log.read_text(errors='replace')[-2000:]}")

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def rss_kib(self) -> int:
        status = Path(f"/proc/{self.pid}/status").read_text()
        line = next(line for line in status.splitlines() if line.startswith("VmRSS"))
        return int(line.split()[1])

    def cpu_seconds(self, main_thread_only: bool = False) -> float:
        """CPU the server process (or only its main thread, the event loop's: not a
        database's worker threads, nor Node's) has used so far, to the nanosecond: the
        scheduler's own count of each thread's run time (/proc/PID/task/TID/schedstat),
        where /proc/PID/stat counts in ticks of 10 ms. A thread that has ended is not
        counted (none of the targets ends one while measured)."""
        tasks = Path(f"/proc/{self.pid}/task")
        threads = [tasks / str(self.pid)] if main_thread_only else list(tasks.iterdir())
        nanoseconds = 0
        for thread in threads:
            with contextlib.suppress(FileNotFoundError):  # ended while listed
                nanoseconds += int((thread / "schedstat").read_text().split()[0])
        return nanoseconds / 1e9

    async def visitor(self, http: aiohttp.ClientSession, username: str) -> User:
        """A chatapp visitor about to log in or sign up: the XSRF cookie and token."""
        user = User(username)
        async with http.get(f"{self.url}/api/session") as response:
            user.keep(response)
            user.xsrf = (await response.json())["xsrf"]
        return user

    async def sign_in(self, http: aiohttp.ClientSession, username: str) -> User:
        """A logged-in user: chatapp's sign-up (XSRF token first), a reference's login."""
        if self.is_chatapp:
            user = await self.visitor(http, username)
            body = {"username": username, "password": PASSWORD}
            path = "/api/signup"
        else:
            user, body, path = User(username), {"username": username}, "/api/login"
        async with http.post(f"{self.url}{path}", json=body, headers=user.headers()) as response:
            if response.status >= 300:
                raise RuntimeError(f"{self.name}: {path} {response.status} {await response.text()}")
            user.keep(response)
        return user

    async def log_in(self, http: aiohttp.ClientSession, username: str) -> float | None:
        """Log a signed-up chatapp user in as a browser does: the seconds the login
        took, or None if it was refused for being one too many at once (503 busy)."""
        user = await self.visitor(http, username)
        started = time.perf_counter()
        body = {"username": username, "password": PASSWORD}
        url = f"{self.url}/api/login"
        async with http.post(url, json=body, headers=user.headers()) as response:
            if response.status == 503:
                return None
            if response.status != 200:
                raise RuntimeError(f"{self.name}: login {response.status} {await response.text()}")
        return time.perf_counter() - started

    async def befriend(self, http: aiohttp.ClientSession, user: User, friend: User) -> None:
        """Make them friends: chatapp needs a request and its acceptance."""
        pairs = [(user, friend), (friend, user)] if self.is_chatapp else [(user, friend)]
        for asking, asked in pairs:
            url = f"{self.url}/api/friends/{asked.username}"
            async with http.post(url, headers=asking.headers()) as response:
                if response.status >= 300:
                    raise RuntimeError(f"{self.name}: befriend {response.status}")

    async def loop_lag(self, http: aiohttp.ClientSession) -> list[float]:
        """The lag samples (ms) since the last call."""
        async with http.get(f"{self.url}/bench/loop-lag") as response:
            samples: list[float] = (await response.json())["samples_ms"]
            return samples


def chatapp_settings(
    store: str,
    redis_url: str,
    fast_hashes: bool = True,
    database: str = "",
    message_queue: str = "",
) -> str:
    """run.py's settings for a benchmark: limits out of the way, the lag probe on, password
    hashes cheap unless the scenario is about them (`fast_hashes=False`: production's); a
    shared `database` and a `message_queue` for several processes (bench/cluster.py)."""
    shared = f"[database]\nurl = {database}\n" if database else ""
    hashes = FAST_HASHES if fast_hashes else ""
    return (
        shared
        + f"""
[server]
port = 0
; as the references, which log no requests (docs/PERFORMANCE.md says what the log costs)
access_log = false
[session]
store = {store}
[redis]
url = {redis_url}
prefix = bench{os.getpid()}:
{hashes}
[socketio]
message_queue = {message_queue}
max_sockets_per_user = 100000
max_connections_per_address = 100000
events_per_second = 100000
event_burst = 100000
[limits]
posts_per_minute = 100000
comments_per_minute = 100000
friend_actions_per_minute = 100000
messages_per_minute = 100000
anonymous_sessions_per_minute = 100000
socket_connections_per_minute = 10000000
[bench]
loop_lag = true
"""
    )


def build_targets(names: list[str], scratch: Path, redis_url: str, **options: Any) -> list[Target]:
    python = sys.executable
    made: list[Target] = []
    for name in names:
        workdir, port = scratch / name, str(free_port())
        if name == "bare":
            script = ROOT / "bench/reference/bare.py"
            made.append(Target(name, [python, str(script), port], workdir))
        elif name == "node":
            script = ROOT / "bench/reference/node/server.js"
            made.append(Target(name, ["node", str(script), port], workdir))
        elif name == "flask":
            script = ROOT / "bench/reference/flask_app.py"
            made.append(Target(name, [python, str(script), port, redis_url], workdir))
        elif name.startswith("chatapp-"):
            workdir.mkdir(parents=True, exist_ok=True)
            settings = chatapp_settings(name.removeprefix("chatapp-"), redis_url, **options)
            (workdir / "settings.ini").write_text(settings)
            secret = {"CHATAPP_COOKIE_SECRET": "b" * 48}
            made.append(Target(name, [python, str(ROOT / "run.py")], workdir, secret))
        else:
            raise SystemExit(f"unknown target {name!r}")
    return made
