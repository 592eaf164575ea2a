"""What one backend promises beyond the contract: files, memory limits, servers down."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from chatapp.backends import connect_mongodb, connect_redis, mongodb_database
from stores import SessionGone, StoreUnavailable
from stores.base import decode_value
from stores.file import FileSessionStore
from stores.memory import MemorySessionStore
from stores.mongodb import MongoSessionStore
from stores.redis import RedisSessionStore

TIMEOUTS: dict[str, Any] = {"idle_timeout": 60.0, "absolute_timeout": 3600.0}


def new_id() -> str:
    return secrets.token_urlsafe(32)


# -- file ---------------------------------------------------------------------------


async def test_file_names_never_come_from_the_id(tmp_path: Path) -> None:
    sessions = tmp_path / "sessions"
    store = FileSessionStore(sessions, **TIMEOUTS)
    victim = tmp_path / "victim.session"
    victim.write_text("keep me")
    for sid in ["../victim", "../../etc/passwd", str(victim), "..", ".locks/00"]:
        await store.create(sid, {"x": 1})
        await store.destroy(sid)
    assert victim.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sessions", "victim.session"]
    assert all(p.name.startswith(".") or len(p.stem) == 64 for p in sessions.iterdir())
    await store.close()


async def test_a_corrupt_session_file_is_logged_and_treated_as_absent(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = FileSessionStore(tmp_path, **TIMEOUTS)
    sid = new_id()
    await store.create(sid, {"x": 1})
    (path,) = tmp_path.glob("*.session")
    future = time.time() + 60
    for garbage in [b"{not json", b"", b"[1, 2]", b'{"id": 5}', b"\xff\xfe"]:
        path.write_bytes(garbage)
        os.utime(path, (future, future))
        with caplog.at_level(logging.WARNING, logger="stores.file"):
            assert await store.load(sid) is None
        assert "corrupt session file" in caplog.text
        caplog.clear()
        with pytest.raises(SessionGone):
            await store.save(sid, {"x": 2})
    await store.close()


async def test_the_file_sweep_removes_expired_sessions_and_their_index(tmp_path: Path) -> None:
    store = FileSessionStore(tmp_path, idle_timeout=0.3, absolute_timeout=3600)
    expiring = new_id()
    await store.create(expiring, {"user_id": "alice"})
    await asyncio.sleep(0.4)
    kept = new_id()
    await store.create(kept, {"user_id": "alice"})
    assert await store.sweep() == 1
    assert len(list(tmp_path.glob("*.session"))) == 1
    assert await store.session_ids_of("alice") == [kept]
    assert len(list((tmp_path / ".users").rglob("*"))) == 2  # alice's folder and one marker
    await store.close()


async def test_file_writes_leave_only_private_complete_files(tmp_path: Path) -> None:
    store = FileSessionStore(tmp_path, **TIMEOUTS)
    sid = new_id()
    await store.create(sid, {})
    await asyncio.gather(*(store.save(sid, {f"k{i}": i}) for i in range(30)))
    files = list(tmp_path.glob("*"))
    assert not [p for p in files if p.name.startswith(".tmp-")]
    (path,) = tmp_path.glob("*.session")
    assert path.stat().st_mode & 0o077 == 0
    await store.close()


# -- what every backend shares ------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ['"a"', "1", "-2.5e3", "true", "null", '{"a":[1,2]}', ' {"a": [1, 2]} ', "1 ", " 1"],
)
def test_stored_values_decode_as_json_loads_reads_them(text: str) -> None:
    assert decode_value(text) == json.loads(text)


@pytest.mark.parametrize("text", ["", "[1,2] x", "{", "'a'", "1 2"])
def test_text_that_is_not_one_json_value_is_refused_as_json_loads_refuses_it(text: str) -> None:
    with pytest.raises(json.JSONDecodeError):
        decode_value(text)


# -- memory -------------------------------------------------------------------------


async def test_memory_records_are_their_callers_own_and_the_user_index_follows_saves() -> None:
    """The memory store hands the base its live entry (no copy per read): what a caller
    does to a record must still never reach the store."""
    store = MemorySessionStore(**TIMEOUTS)
    sid = new_id()
    record = await store.create(sid, {"user_id": "alice", "prefs": {"theme": "dark"}})
    record.data["prefs"]["theme"] = "light"
    loaded = await store.load(sid)
    assert loaded is not None and loaded.data["prefs"] == {"theme": "dark"}
    loaded.data["prefs"]["theme"] = "light"
    saved = await store.save(sid, {"seen": 1.0})
    assert saved.data == {"user_id": "alice", "prefs": {"theme": "dark"}, "seen": 1.0}
    assert await store.session_ids_of("alice") == [sid]
    await store.save(sid, {"user_id": "bob"})
    assert await store.session_ids_of("alice") == []
    assert await store.session_ids_of("bob") == [sid]


async def test_the_memory_store_sweeps_expired_sessions() -> None:
    store = MemorySessionStore(idle_timeout=0.2, absolute_timeout=3600)
    for _ in range(5):
        await store.create(new_id(), {"user_id": "alice"})
    await asyncio.sleep(0.3)
    assert await store.sweep() == 5
    assert len(store) == 0
    assert await store.session_ids_of("alice") == []


async def test_a_full_memory_store_evicts_the_expired_first_then_the_least_recently_used(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = MemorySessionStore(max_sessions=3, idle_timeout=60, absolute_timeout=3600)
    oldest, middle, newest = new_id(), new_id(), new_id()
    for sid in (oldest, middle, newest):
        await store.create(sid, {"user_id": "alice"})
    await store.load(oldest)  # now `middle` is the least recently used
    with caplog.at_level(logging.WARNING, logger="stores.memory"):
        await store.create(new_id(), {})
    assert await store.load(middle) is None
    assert await store.load(oldest) is not None and await store.load(newest) is not None
    assert "evicted the least recently used" in caplog.text
    assert sorted(await store.session_ids_of("alice")) == sorted([oldest, newest])

    short = MemorySessionStore(max_sessions=2, idle_timeout=0.2, absolute_timeout=3600)
    stale = new_id()
    await short.create(stale, {})
    await asyncio.sleep(0.3)
    fresh = new_id()
    await short.create(fresh, {})
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="stores.memory"):
        await short.create(new_id(), {})
    assert "evicted" not in caplog.text  # the expired one made room
    assert await short.load(fresh) is not None


async def test_a_full_memory_store_evicts_anonymous_sessions_before_any_login() -> None:
    """Before: 60 anonymous sessions from one client pushed a logged-in user out."""
    store = MemorySessionStore(max_sessions=3, idle_timeout=60, absolute_timeout=3600)
    login = new_id()
    await store.create(login, {"user_id": "alice"})  # the least recently used of all
    anonymous = [new_id() for _ in range(60)]
    for sid in anonymous:
        await store.create(sid, {"pref:theme": "dark"})
    assert await store.load(login) is not None
    assert [await store.load(sid) is not None for sid in anonymous[-2:]] == [True, True]
    assert len(store) == 3
    # logged in meanwhile (no longer anonymous): kept as a login
    await store.save(anonymous[-1], {"user_id": "bob"})
    for _ in range(5):
        await store.create(new_id(), {})
    assert await store.load(anonymous[-1]) is not None and await store.load(login) is not None


def test_the_memory_store_says_it_is_for_one_process(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="stores.memory"):
        MemorySessionStore(**TIMEOUTS)
    assert "one process" in caplog.text


# -- servers that are down --------------------------------------------------------


@pytest.mark.parametrize("kind", ["redis", "mongodb-pymongo", "mongodb-motor"])
async def test_a_down_server_raises_store_unavailable_within_seconds(
    kind: str, closed_port_url: Callable[[str], str]
) -> None:
    if kind == "redis":
        store: RedisSessionStore | MongoSessionStore = RedisSessionStore(
            connect_redis(closed_port_url("redis"), timeout=1), **TIMEOUTS
        )
    else:
        client = connect_mongodb(closed_port_url("mongodb"), kind.split("-")[1], timeout=1)
        store = MongoSessionStore(mongodb_database(client).sessions, **TIMEOUTS)
    started = time.monotonic()
    for operation in (
        store.ping(),
        store.load(new_id()),
        store.create(new_id(), {}),
        store.save(new_id(), {"k": 1}),
        store.touch(new_id()),
    ):
        with pytest.raises(StoreUnavailable):
            await operation
    assert time.monotonic() - started < 15  # five calls, each bounded by about a second
    await store.close()


async def test_a_burst_beyond_the_connection_pool_waits_instead_of_failing(redis_url: str) -> None:
    store = RedisSessionStore(connect_redis(redis_url, timeout=5), prefix="burst:", **TIMEOUTS)
    ids = [new_id() for _ in range(300)]
    await asyncio.gather(*(store.create(sid, {"n": 0}) for sid in ids))
    loaded = await asyncio.gather(*(store.load(sid) for sid in ids))
    assert all(record is not None for record in loaded)
    await store.close()


# -- sessions stored before revisions went -------------------------------------------


async def test_a_session_file_with_revisions_loads_and_saves(tmp_path: Path) -> None:
    store = FileSessionStore(tmp_path, **TIMEOUTS)
    sid = new_id()
    await store.create(sid, {"theme": "dark"})
    (path,) = tmp_path.glob("*.session")
    doc = json.loads(path.read_text())
    doc.update(revision=3, key_revisions={"theme": 3})  # as files were written before
    mtime = path.stat().st_mtime
    path.write_text(json.dumps(doc))
    os.utime(path, (mtime, mtime))
    assert (await store.load(sid)).data == {"theme": "dark"}  # type: ignore[union-attr]
    assert (await store.save(sid, {"theme": "light"})).data == {"theme": "light"}
    await store.close()


async def test_a_redis_session_with_revisions_loads_and_saves(redis_url: str) -> None:
    store = RedisSessionStore(connect_redis(redis_url, timeout=5), prefix="old:", **TIMEOUTS)
    sid = new_id()
    await store.create(sid, {"theme": "dark"})
    await store.client.hset(f"old:s:{sid}", mapping={"rev": 3, "r:theme": 3})
    assert (await store.load(sid)).data == {"theme": "dark"}  # type: ignore[union-attr]
    assert (await store.save(sid, {"theme": "light"})).data == {"theme": "light"}
    await store.close()
