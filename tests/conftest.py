"""Real backing servers, started once per test session, and a store for every backend.

Redis is Debian's redis-server on a free port. MongoDB is SecantusDB, a
MongoDB-wire-protocol server from PyPI, in this process, or a real mongod
when CHATAPP_TEST_MONGODB_URL is set. Adding a session backend means adding
one entry to STORE_KINDS and one branch to `make_store`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from chatapp.backends import connect_mongodb, connect_redis, mongodb_database
from stores.base import SessionStore
from tests.servers import free_port, redis_server, secantus_server

#: Fixtures shared by several test modules.
pytest_plugins = ["tests.apps"]

STORE_KINDS = ["memory", "file", "mongodb-pymongo", "mongodb-motor", "redis"]


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_server(tmp_path_factory.mktemp("redis")) as server:
        yield server.url


@pytest.fixture(scope="session")
def mongodb_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database URL; each test uses collections of its own inside it."""
    real = os.environ.get("CHATAPP_TEST_MONGODB_URL")
    if real:
        yield real
        return
    with secantus_server(tmp_path_factory.mktemp("secantus")) as url:
        yield url


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
