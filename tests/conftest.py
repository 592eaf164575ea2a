"""Real backing servers, started once per test session, and a store for every backend.

Redis is Debian's redis-server on a free port. MongoDB is SecantusDB, a
MongoDB-wire-protocol server from PyPI, in this process, or a real mongod
when CHATAPP_TEST_MONGODB_URL is set. Adding a session backend means adding
one entry to STORE_KINDS and one branch to `make_store`.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from chatapp.backends import connect_mongodb, connect_redis, mongodb_database
from stores.base import SessionStore

STORE_KINDS = ["memory", "file", "mongodb-pymongo", "mongodb-motor", "redis"]
#: How long a test waits for a server to come up before failing.
STARTUP_LIMIT = 15.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, limit: float = STARTUP_LIMIT) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listened on port {port} within {limit}s")


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    executable = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(executable).exists():
        pytest.fail(
            "redis-server is not installed: `make test` installs it (apt-get install redis-server)"
        )
    port = free_port()
    server = subprocess.Popen(
        [
            executable,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path_factory.mktemp("redis")),
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="session")
def mongodb_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database URL; each test uses collections of its own inside it."""
    real = os.environ.get("CHATAPP_TEST_MONGODB_URL")
    if real:
        yield real
        return
    from secantus import SecantusDBServer

    server = SecantusDBServer(port=0, storage_path=str(tmp_path_factory.mktemp("secantus")))
    server.start()
    try:
        yield f"mongodb://127.0.0.1:{server.port}/chatapp_test"
    finally:
        server.stop()


@pytest.fixture
def closed_port_url() -> Callable[[str], str]:
    """A URL of the given scheme where nothing listens, to test a server that is down."""
    return lambda scheme: f"{scheme}://127.0.0.1:{free_port()}/0"


StoreFactory = Callable[..., SessionStore]


@pytest.fixture(params=STORE_KINDS)
async def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[StoreFactory]:
    """Builds stores of one kind, all over the same backing data (a fresh namespace per test).

    Calling it twice gives two store objects on one backend: a restart, or a second process.
    """
    kind: str = request.param
    namespace = f"t{uuid.uuid4().hex[:12]}"
    made: list[SessionStore] = []

    def make(
        *, idle_timeout: float = 60, absolute_timeout: float = 3600, **options: object
    ) -> SessionStore:
        timeouts = {"idle_timeout": idle_timeout, "absolute_timeout": absolute_timeout}
        store: SessionStore
        if kind == "memory":
            from stores.memory import MemorySessionStore

            store = MemorySessionStore(**timeouts, **options)  # type: ignore[arg-type]
        elif kind == "file":
            from stores.file import FileSessionStore

            store = FileSessionStore(tmp_path / "sessions", **timeouts)
        elif kind.startswith("mongodb"):
            from stores.mongodb import MongoSessionStore

            url = request.getfixturevalue("mongodb_url")
            client = connect_mongodb(url, kind.split("-")[1], timeout=5)
            store = MongoSessionStore(mongodb_database(client)[namespace], **timeouts)
        else:
            from stores.redis import RedisSessionStore

            client = connect_redis(request.getfixturevalue("redis_url"), timeout=5)
            store = RedisSessionStore(client, prefix=f"{namespace}:", **timeouts)
        made.append(store)
        return store

    make.kind = kind  # type: ignore[attr-defined]
    yield make
    for store in made:
        await store.close()
