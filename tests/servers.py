"""Start real backing servers on free ports: Debian's redis-server, and SecantusDB for MongoDB.

Used by the test fixtures and the benchmarks alike.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: How long to wait for a server to come up.
STARTUP_LIMIT = 15.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(
    port: int, limit: float = STARTUP_LIMIT, process: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server for port {port} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listened on port {port} within {limit}s")


class RedisServer:
    """A redis-server of its own on `port`, without persistence; stop() and start() again."""

    def __init__(self, directory: Path, port: int | None = None) -> None:
        executable = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not Path(executable).exists():
            raise RuntimeError("redis-server is not installed: `make test` installs it")
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._command = [
            executable,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
        ]
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisServer:
        Path(self._command[-1]).mkdir(parents=True, exist_ok=True)
        self._process = subprocess.Popen(self._command, stdout=subprocess.DEVNULL)
        wait_for_port(self.port, process=self._process)
        return self

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None


@contextmanager
def redis_server(directory: Path) -> Iterator[RedisServer]:
    server = RedisServer(directory).start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def secantus_server(directory: Path, database: str = "chatapp_test") -> Iterator[str]:
    """A MongoDB-wire server in this process; yields the URL of `database` on it."""
    from secantus import SecantusDBServer

    server = SecantusDBServer(port=0, storage_path=str(directory))
    server.start()
    try:
        yield f"mongodb://127.0.0.1:{server.port}/{database}"
    finally:
        server.stop()
