"""Clients for the backing servers and the session store the settings choose.

Every client is built with timeouts on connecting and on each call, so a
server that is down costs a bounded wait and a StoreUnavailable, never a hang.
"""

from __future__ import annotations

import re
import sqlite3
import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from chatapp.errors import BackendUnavailable, ServiceUnavailable
from chatapp.settings import Settings
from chatapp.social.base import Database
from stores.base import SessionStore
from stores.errors import StoreUnavailable


def redacted(url: str) -> str:
    """The URL without its password, fit for logs and error messages."""
    return re.sub(r"//([^:/@]*):[^@/]*@", r"//\1:***@", url)


def connect_redis(
    url: str,
    timeout: float,
    *,
    read_timeout: float | None = -1,
    max_connections: int = 100,
    decode_responses: bool = True,
) -> aioredis.Redis:
    """A client whose pool waits (up to `timeout`) for a free connection when all are busy.

    redis-py's default pool refuses outright past its 100 connections, which a
    burst of socket events reaches at once; waiting is what a server wants.
    `read_timeout` defaults to `timeout`; None for a subscriber that waits for messages.
    A `redis+sentinel://` URL gives a client of whichever server the sentinels
    name primary now (`sentinel_primary`).
    """
    if url.startswith(SENTINEL_SCHEME):
        return sentinel_primary(
            url,
            timeout,
            read_timeout=timeout if read_timeout == -1 else read_timeout,
            decode_responses=decode_responses,
        )
    pool = aioredis.BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=timeout,
        socket_timeout=timeout if read_timeout == -1 else read_timeout,
        socket_connect_timeout=timeout,
        decode_responses=decode_responses,
        health_check_interval=30,
    )
    return aioredis.Redis(connection_pool=pool)


#: `redis+sentinel://[:password@]host:port,host:port/db/service`, python-socketio's form.
SENTINEL_SCHEME = "redis+sentinel://"


def sentinel_primary(
    url: str, timeout: float, *, read_timeout: float | None, decode_responses: bool
) -> aioredis.Redis:
    """A client of the primary that Redis Sentinel names for the URL's service.

    The sentinels are asked at each new connection: after a failover, a command
    that fails on the lost primary raises (a 503 for that request), and the next
    connection goes to the new one. The URL's form is python-socketio's, so the
    same URL serves `[socketio] message_queue` (its AsyncRedisManager reads it).
    """
    from redis.asyncio.sentinel import Sentinel
    from socketio.redis_manager import parse_redis_sentinel_url

    sentinels, service, options = parse_redis_sentinel_url(url)
    limits = {"socket_timeout": timeout, "socket_connect_timeout": timeout}
    # redis-py types Sentinel from 8.2 on; before, the call is untyped.
    sentinel = Sentinel(  # type: ignore[no-untyped-call, unused-ignore]
        sentinels,
        sentinel_kwargs=limits,  # the sentinels' own connections: no password, as socketio
        socket_timeout=read_timeout,
        socket_connect_timeout=timeout,
        decode_responses=decode_responses,
        health_check_interval=30,
        **options,
    )
    primary: aioredis.Redis = sentinel.master_for(service or "mymaster")
    return primary


@contextmanager
def redis_errors(what: str) -> Iterator[None]:
    """Redis errors (refused, timed out, lost) as chatapp's own ServiceUnavailable."""
    try:
        yield
    except (RedisError, OSError, TimeoutError) as exc:
        # Some errors (redis-py's MasterNotFoundError) hold every client's repr: cut.
        detail = textwrap.shorten(str(exc), 200)
        raise ServiceUnavailable(f"{what}: Redis did not answer ({detail})") from exc


def connect_mongodb(url: str, driver: str, timeout: float) -> Any:
    """A PyMongo AsyncMongoClient, or Motor's client when driver is 'motor'.

    `timeoutMS` bounds each operation whole, its retry included: with only the
    socket and selection timeouts, a read from a black-holed server waited for
    the socket timeout, then for a retry's server selection and socket again
    (12 s at timeout = 2 s; tests/test_faults.py).
    """
    options: dict[str, Any] = {
        "timeoutMS": int(timeout * 1000),
        "serverSelectionTimeoutMS": int(timeout * 1000),
        "connectTimeoutMS": int(timeout * 1000),
        "tz_aware": True,
    }
    if driver == "motor":
        from motor.motor_asyncio import AsyncIOMotorClient

        return AsyncIOMotorClient(url, **options)
    from pymongo import AsyncMongoClient

    return AsyncMongoClient(url, **options)


def mongodb_database(client: Any, default_name: str = "chatapp") -> Any:
    """The database the URL's path names, or `default_name`."""
    return client.get_default_database(default_name)


@dataclass(frozen=True)
class StoreBackend:
    """How `[session] store = NAME` is built, and the setting behind it for messages."""

    #: (settings, namespace): a store; `namespace` (tests) keeps its data apart.
    build: Callable[[Settings, str | None], SessionStore]
    #: The settings key and URL (or path) an error message names.
    where: Callable[[Settings], tuple[str, str]]


def _memory(settings: Settings, namespace: str | None) -> SessionStore:
    from stores.memory import MemorySessionStore

    return MemorySessionStore(
        max_sessions=settings.session.memory_max_sessions, **_timeouts(settings)
    )


def _file(settings: Settings, namespace: str | None) -> SessionStore:
    from stores.file import FileSessionStore

    return FileSessionStore(settings.session.file_dir, **_timeouts(settings))


def _mongodb(settings: Settings, namespace: str | None) -> SessionStore:
    from stores.mongodb import MongoSessionStore

    mongo = settings.mongodb
    database = mongodb_database(connect_mongodb(mongo.url, mongo.driver, mongo.timeout))
    return MongoSessionStore(database[namespace or "sessions"], **_timeouts(settings))


def _redis(settings: Settings, namespace: str | None) -> SessionStore:
    from stores.redis import RedisSessionStore

    client = connect_redis(settings.redis.url, settings.redis.timeout)
    prefix = f"{namespace}:" if namespace else settings.redis.prefix
    return RedisSessionStore(client, prefix=prefix, **_timeouts(settings))


def _timeouts(settings: Settings) -> dict[str, float]:
    session = settings.session
    return {"idle_timeout": session.idle_timeout, "absolute_timeout": session.absolute_timeout}


#: Every session store by its settings name. Adding a store: its module in stores/,
#: one entry here, one parameter in tests/conftest.py (docs/sessions.md has the steps).
SESSION_STORES: dict[str, StoreBackend] = {
    "memory": StoreBackend(_memory, lambda s: ("[session] store", "memory")),
    "file": StoreBackend(_file, lambda s: ("[session] file_dir", s.session.file_dir)),
    "mongodb": StoreBackend(_mongodb, lambda s: ("[mongodb] url", redacted(s.mongodb.url))),
    "redis": StoreBackend(_redis, lambda s: ("[redis] url", redacted(s.redis.url))),
}


def build_session_store(settings: Settings, *, namespace: str | None = None) -> SessionStore:
    """The store `[session] store` names, configured from its own section."""
    return SESSION_STORES[settings.session.store].build(settings, namespace)


def _sqlite(settings: Settings) -> Database:
    from chatapp.social.sqlite import SQLiteDatabase

    return SQLiteDatabase(settings.database.url.removeprefix("sqlite:///"))


def _mongodb_database(settings: Settings) -> Database:
    from chatapp.social.mongodb import MongoDatabase

    mongo = settings.mongodb
    client = connect_mongodb(settings.database.url, mongo.driver, mongo.timeout)
    return MongoDatabase(mongodb_database(client))


#: Every social database by the scheme of `[database] url` (settings checks the schemes).
DATABASES: dict[str, Callable[[Settings], Database]] = {
    "sqlite": _sqlite,
    "mongodb": _mongodb_database,
    "mongodb+srv": _mongodb_database,
}


def build_database(settings: Settings) -> Database:
    """The social database `[database] url` names: SQLite, or MongoDB with `[mongodb] driver`."""
    return DATABASES[settings.database.url.partition("://")[0]](settings)


async def open_database(db: Database, settings: Settings) -> None:
    """Check the database answers and migrate it; BackendUnavailable otherwise."""
    try:
        await db.prepare()
    except (ServiceUnavailable, OSError, sqlite3.Error) as exc:
        raise BackendUnavailable(
            "[database] url", redacted(settings.database.url), str(exc)
        ) from None


def store_setting(settings: Settings) -> tuple[str, str]:
    """The settings key and URL (or path) behind the session store, for messages."""
    return SESSION_STORES[settings.session.store].where(settings)


async def open_session_store(store: SessionStore, settings: Settings) -> None:
    """Check the store answers and prepare it (indexes); BackendUnavailable otherwise."""
    try:
        await store.ping()
        await store.prepare()
    except StoreUnavailable as exc:
        key, url = store_setting(settings)
        raise BackendUnavailable(key, url, str(exc)) from None
