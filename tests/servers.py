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
from typing import Any

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

    def __init__(self, directory: Path, port: int | None = None, *options: str) -> None:
        executable = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.directory = directory
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
            *options,
        ]
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisServer:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._process = subprocess.Popen(self._command, stdout=subprocess.DEVNULL)
        wait_for_port(self.port, process=self._process)
        return self

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None

    def kill(self) -> None:
        """SIGKILL: a crash, no goodbye to its clients."""
        if self._process is not None:
            self._process.kill()
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


class SentinelGroup:
    """A primary, a replica and three Redis Sentinels on loopback (Debian's redis-server,
    which is also the sentinel: `redis-server CONF --sentinel`); `url` names the group in
    the `redis+sentinel://` form chatapp and python-socketio read.
    """

    SERVICE = "chatapp"

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        # A replica's first sync waits 5 s by default, for other replicas to join it.
        self.primary = RedisServer(directory / "primary", None, "--repl-diskless-sync-delay", "0")
        self.replica = RedisServer(
            directory / "replica", None, "--replicaof", "127.0.0.1", str(self.primary.port)
        )
        self.sentinel_ports = [free_port() for _ in range(3)]
        self._sentinels: list[subprocess.Popen[bytes]] = []
        hosts = ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)
        self.url = f"redis+sentinel://{hosts}/0/{self.SERVICE}"

    def start(self) -> SentinelGroup:
        self.primary.start()
        self.replica.start()
        executable = shutil.which("redis-server") or "/usr/bin/redis-server"
        for port in self.sentinel_ports:
            folder = self.directory / f"sentinel-{port}"
            folder.mkdir(parents=True, exist_ok=True)
            conf = folder / "sentinel.conf"  # a sentinel rewrites its file: one each
            conf.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {folder}\n"
                f"sentinel monitor {self.SERVICE} 127.0.0.1 {self.primary.port} 2\n"
                f"sentinel down-after-milliseconds {self.SERVICE} 1000\n"
                f"sentinel failover-timeout {self.SERVICE} 3000\n"
            )
            process = subprocess.Popen(
                [executable, str(conf), "--sentinel"], stdout=subprocess.DEVNULL
            )
            self._sentinels.append(process)
            wait_for_port(port, process=process)
        self._wait_until_the_replica_is_known()
        return self

    def _wait_until_the_replica_is_known(self, limit: float = STARTUP_LIMIT) -> None:
        """The replica in sync, known to every sentinel, and the sentinels to each other:
        a failover needs all three."""
        import redis

        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            replica = redis.Redis(port=self.replica.port, socket_timeout=1, decode_responses=True)
            try:
                in_sync = replica.info("replication").get("master_link_status") == "up"
            finally:
                replica.close()
            known = 0
            for port in self.sentinel_ports:
                client = redis.Redis(port=port, socket_timeout=1, decode_responses=True)
                try:
                    replicas = client.sentinel_slaves(self.SERVICE)
                    state: Any = client.sentinel_master(self.SERVICE)
                    others = state["num-other-sentinels"]
                    # Sentinels that do not know each other yet elect no leader, and a
                    # failed election waits twice failover-timeout before the next.
                    known += any("s_down" not in r["flags"] for r in replicas) and others == 2
                except redis.RedisError:
                    pass
                finally:
                    client.close()
            if in_sync and known == len(self.sentinel_ports):
                return
            time.sleep(0.2)
        raise TimeoutError("the sentinels never saw the replica")

    def primary_port(self) -> int:
        """The port of the server the sentinels name primary now."""
        import redis

        client = redis.Redis(port=self.sentinel_ports[0], socket_timeout=1)
        try:
            address: Any = client.sentinel_get_master_addr_by_name(self.SERVICE)
            return int(address[1])
        finally:
            client.close()

    def kill_primary(self) -> None:
        """SIGKILL, as a machine lost: no goodbye, no final sync."""
        self.primary.kill()

    def stop(self) -> None:
        for process in self._sentinels:
            process.terminate()
            process.wait(timeout=10)
        self.replica.stop()
        self.primary.stop()
