"""Real backing servers, started once per test session, and a store for every backend.

Redis is Debian's redis-server on a free port. MongoDB is SecantusDB, a
MongoDB-wire-protocol server from PyPI, in this process, or a real mongod
when CHATAPP_TEST_MONGODB_URL is set. Adding a session backend means adding
one entry to STORE_KINDS (and, for a server, a fixture that starts one and an
entry in SERVER_SECTIONS).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from chatapp.backends import build_session_store
from chatapp.settings import MongoSettings, RedisSettings, SessionSettings, Settings
from stores.base import SessionStore
from tests.servers import free_port, redis_server, secantus_server

#: Fixtures shared by several test modules.
pytest_plugins = ["tests.apps", "tests.browser"]

STORE_KINDS = ["memory", "file", "mongodb-pymongo", "mongodb-motor", "redis"]

#: The settings section a store of a kind needs for the test's server, by store name
#: (the driver after the dash); a store with no server (memory, file) needs none.
SERVER_SECTIONS: dict[str, Callable[[pytest.FixtureRequest, str], dict[str, Any]]] = {
    "mongodb": lambda request, driver: {
        "mongodb": MongoSettings.model_validate(
            {"url": request.getfixturevalue("mongodb_url"), "driver": driver, "timeout": 5}
        )
    },
    "redis": lambda request, _: {
        "redis": RedisSettings(url=request.getfixturevalue("redis_url"), timeout=5)
    },
}


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

#: The store every other test runs on: settings' default.
DEFAULT_STORE = SessionSettings().store
#: Where the store matrix belongs: the store contract. A test elsewhere that must hold for
#: every store says so with `@pytest.mark.all_stores` (`make test` runs those too).
MATRIX_MODULES = {"tests.test_store_contract", "tests.test_store_model"}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test that builds stores (`make_store`, and `start_app` through it) runs over every
    kind in the store contract's modules and where marked `all_stores`; on the default
    store everywhere else."""
    if "make_store" not in metafunc.fixturenames:
        return
    matrix = metafunc.module.__name__ in MATRIX_MODULES or (
        metafunc.definition.get_closest_marker("all_stores") is not None
    )
    metafunc.parametrize("make_store", STORE_KINDS if matrix else [DEFAULT_STORE], indirect=True)


@pytest.fixture
async def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[StoreFactory]:
    """Builds stores of one kind, all over the same backing data (a fresh namespace per test).

    Built as the app builds them (chatapp.backends.SESSION_STORES). Calling it
    twice gives two store objects on one backend: a restart, or a second process.
    """
    kind: str = request.param
    namespace = f"t{uuid.uuid4().hex[:12]}"
    made: list[SessionStore] = []

    def make(*, idle_timeout: float = 60, absolute_timeout: float = 3600) -> SessionStore:
        store_name, _, driver = kind.partition("-")
        sections: dict[str, Any] = {
            "session": SessionSettings(
                store=store_name,
                idle_timeout=idle_timeout,
                absolute_timeout=absolute_timeout,
                file_dir=str(tmp_path / "sessions"),
            )
        }
        server = SERVER_SECTIONS.get(store_name)
        if server is not None:
            sections.update(server(request, driver))
        store = build_session_store(Settings(**sections), namespace=namespace)
        made.append(store)
        return store

    make.kind = kind  # type: ignore[attr-defined]
    yield make
    for store in made:
        await store.close()
