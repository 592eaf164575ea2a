"""The in-process user cache: never stale where it is on, and off with several processes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chatapp.accounts.user_cache import UserCache
from chatapp.social.models import User
from chatapp.social.sqlite import SQLiteDatabase
from tests.apps import ServeApp, app_settings


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[SQLiteDatabase]:
    database = SQLiteDatabase(tmp_path / "chatapp.sqlite3")
    await database.prepare()
    yield database
    await database.close()


async def test_a_kept_user_changes_only_through_renamed(db: SQLiteDatabase) -> None:
    alice = await db.create_user("alice", "Alice", "hash")
    cache = UserCache(db, enabled=True)
    assert await cache.user(alice.id) == alice
    # A rename that bypassed Social.rename (none does) would not be seen: the
    # cache relies on every rename passing through this process.
    await db.rename(alice.id, "Behind its back")
    assert (await cache.user(alice.id)) == alice
    renamed = await db.rename(alice.id, "Alice Liddell")
    assert renamed is not None
    cache.renamed(renamed)
    assert await cache.user(alice.id) == renamed
    assert await cache.user("999999") is None


async def test_off_it_reads_the_database_every_time(db: SQLiteDatabase) -> None:
    alice = await db.create_user("alice", "Alice", "hash")
    cache = UserCache(db, enabled=False)
    assert await cache.user(alice.id) == alice
    await db.rename(alice.id, "Renamed elsewhere")
    assert (await cache.user(alice.id)) == User(alice.id, "alice", "Renamed elsewhere")


async def test_a_read_overtaken_by_a_rename_is_not_kept(db: SQLiteDatabase) -> None:
    alice = await db.create_user("alice", "Alice", "hash")
    cache = UserCache(db, enabled=True)
    reading = asyncio.create_task(cache.user(alice.id))
    await asyncio.sleep(0)  # the read is in flight with the old name
    newer = User(alice.id, "alice", "Newer")
    cache.renamed(newer)
    assert await reading == alice  # that caller saw the name of its time
    assert await cache.user(alice.id) == newer  # and did not overwrite the rename


async def test_the_least_recently_used_user_leaves_first(db: SQLiteDatabase) -> None:
    a, b, c = [await db.create_user(n, n.title(), "hash") for n in ("anna", "bert", "cleo")]
    cache = UserCache(db, enabled=True, capacity=2)
    await cache.user(a.id)
    await cache.user(b.id)
    await cache.user(a.id)  # anna used last: bert goes when cleo comes
    await cache.user(c.id)
    for user in (a, b):
        await db.rename(user.id, "Changed")
    assert (await cache.user(a.id)) == a  # still kept
    assert await cache.user(b.id) == User(b.id, "bert", "Changed")  # read afresh


async def test_the_app_caches_users_only_without_a_message_queue(
    serve_app: ServeApp, redis_url: str
) -> None:
    alone = await serve_app(app_settings())
    assert alone.app.accounts.users.enabled
    queued = await serve_app(app_settings(socketio={"message_queue": redis_url}))
    assert not queued.app.accounts.users.enabled
