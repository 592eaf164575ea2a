"""Clients for the backing servers and the session store the settings choose.

Every client is built with timeouts on connecting and on each call, so a
server that is down costs a bounded wait and a StoreUnavailable, never a hang.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any

import redis.asyncio as aioredis

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
    """
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


def connect_mongodb(url: str, driver: str, timeout: float) -> Any:
    """A PyMongo AsyncMongoClient, or Motor's client when driver is 'motor'."""
    options: dict[str, Any] = {
        "serverSelectionTimeoutMS": int(timeout * 1000),
        "connectTimeoutMS": int(timeout * 1000),
        "socketTimeoutMS": int(timeout * 2500),
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


def build_session_store(settings: Settings) -> SessionStore:
    """The store `[session] store` names, configured from its own section."""
    session = settings.session
    timeouts = {"idle_timeout": session.idle_timeout, "absolute_timeout": session.absolute_timeout}
    if session.store == "memory":
        from stores.memory import MemorySessionStore

        return MemorySessionStore(max_sessions=session.memory_max_sessions, **timeouts)
    if session.store == "file":
        from stores.file import FileSessionStore

        return FileSessionStore(session.file_dir, **timeouts)
    if session.store == "mongodb":
        from stores.mongodb import MongoSessionStore

        mongo = settings.mongodb
        client = connect_mongodb(mongo.url, mongo.driver, mongo.timeout)
        return MongoSessionStore(mongodb_database(client).sessions, **timeouts)
    from stores.redis import RedisSessionStore

    redis_client = connect_redis(settings.redis.url, settings.redis.timeout)
    return RedisSessionStore(redis_client, prefix="chatapp:", **timeouts)


def build_database(settings: Settings) -> Database:
    """The social database `[database] url` names: SQLite, or MongoDB with `[mongodb] driver`."""
    url = settings.database.url
    if url.startswith("sqlite:///"):
        from chatapp.social.sqlite import SQLiteDatabase

        return SQLiteDatabase(url.removeprefix("sqlite:///"))
    from chatapp.social.mongodb import MongoDatabase

    client = connect_mongodb(url, settings.mongodb.driver, settings.mongodb.timeout)
    return MongoDatabase(mongodb_database(client))


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
    store = settings.session.store
    if store == "mongodb":
        return "[mongodb] url", redacted(settings.mongodb.url)
    if store == "redis":
        return "[redis] url", redacted(settings.redis.url)
    if store == "file":
        return "[session] file_dir", settings.session.file_dir
    return "[session] store", "memory"


async def open_session_store(store: SessionStore, settings: Settings) -> None:
    """Check the store answers and prepare it (indexes); BackendUnavailable otherwise."""
    try:
        await store.ping()
        await store.prepare()
    except StoreUnavailable as exc:
        key, url = store_setting(settings)
        raise BackendUnavailable(key, url, str(exc)) from None
