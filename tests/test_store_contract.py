"""The SessionStore contract, one suite run against every backend (see conftest.STORE_KINDS)."""

from __future__ import annotations

import asyncio
import contextlib
import secrets

import pytest

from stores import DELETED, SessionGone, SessionValueError
from stores.base import SessionStore
from tests.conftest import StoreFactory
from tests.helpers import eventually

ODD_KEYS = ["a.b", "$where", "50%", "%2E", "ünïcode", "with space", "d:", "r:x", "user"]


def new_id() -> str:
    return secrets.token_urlsafe(32)


async def test_a_created_session_loads_with_its_data(make_store: StoreFactory) -> None:
    store = make_store()
    await store.prepare()
    sid = new_id()
    await store.create(sid, {"theme": "dark", "n": 1, "nested": {"a": [1, 2]}})
    loaded = await store.load(sid)
    assert loaded is not None
    assert loaded.data == {"theme": "dark", "n": 1, "nested": {"a": [1, 2]}}
    assert loaded.expires_at <= loaded.deadline


async def test_unknown_and_malformed_ids_are_absent_and_store_nothing(
    make_store: StoreFactory,
) -> None:
    store = make_store()
    for sid in [new_id(), "", "x" * 300, "../../etc/passwd", "/etc/passwd", "a\0b", None, 42]:
        assert await store.load(sid) is None  # type: ignore[arg-type]
        assert await store.touch(sid) is None  # type: ignore[arg-type]
        with pytest.raises(SessionGone):
            await store.save(sid, {"k": 1})  # type: ignore[arg-type]
        await store.destroy(sid)  # type: ignore[arg-type]
        assert await store.load(sid) is None  # type: ignore[arg-type]


async def test_a_save_sends_only_the_changed_keys(make_store: StoreFactory) -> None:
    store = make_store()
    sid = new_id()
    await store.create(sid, {"keep": 1, "drop": 2})
    saved = await store.save(sid, {"new": "x", "drop": DELETED})
    assert saved.data == {"keep": 1, "new": "x"}
    assert (await store.load(sid)).data == {"keep": 1, "new": "x"}  # type: ignore[union-attr]


async def test_keys_with_dots_dollars_and_percents_round_trip(make_store: StoreFactory) -> None:
    store = make_store()
    sid = new_id()
    await store.create(sid, {ODD_KEYS[0]: 0})
    await store.save(sid, {k: {"$set": k} for k in ODD_KEYS})
    loaded = await store.load(sid)
    assert loaded is not None
    assert loaded.data == {k: {"$set": k} for k in ODD_KEYS}


async def test_a_value_that_is_not_json_is_refused_when_set(make_store: StoreFactory) -> None:
    store = make_store()
    sid = new_id()
    await store.create(sid, {"ok": 1})
    for bad in [{1, 2}, object(), float("nan"), b"bytes"]:
        with pytest.raises(SessionValueError, match="'bad'"):
            await store.save(sid, {"bad": bad})
    with pytest.raises(SessionValueError):
        await store.create(new_id(), {"bad": {1}})
    assert (await store.load(sid)).data == {"ok": 1}  # type: ignore[union-attr]


async def test_a_hundred_concurrent_patches_of_distinct_keys_all_land(
    make_store: StoreFactory,
) -> None:
    store = make_store()
    sid = new_id()
    await store.create(sid, {})
    await asyncio.gather(*(store.save(sid, {f"k{i}": i}) for i in range(100)))
    loaded = await store.load(sid)
    assert loaded is not None
    assert loaded.data == {f"k{i}": i for i in range(100)}


async def test_saves_of_one_key_all_land_and_the_last_wins(make_store: StoreFactory) -> None:
    store = make_store()
    sid = new_id()
    await store.create(sid, {})
    await asyncio.gather(*(store.save(sid, {"theme": i}) for i in range(50)))
    last = await store.save(sid, {"theme": "final"})
    assert last.data == {"theme": "final"}
    assert (await store.load(sid)).data == {"theme": "final"}  # type: ignore[union-attr]


async def test_a_save_never_revives_an_ended_session(make_store: StoreFactory) -> None:
    store = make_store()
    sid = new_id()
    await store.create(sid, {"k": 1})
    await store.destroy(sid)
    with pytest.raises(SessionGone):
        await store.save(sid, {"k": 2})
    assert await store.load(sid) is None


async def test_a_save_after_destroy_does_not_resurrect(make_store: StoreFactory) -> None:
    store = make_store()
    sid = new_id()
    await store.create(sid, {"user_id": "u1"})
    await store.destroy(sid)
    with pytest.raises(SessionGone):
        await store.save(sid, {"late": True})
    assert await store.touch(sid) is None
    assert await store.load(sid) is None
    assert await store.session_ids_of("u1") == []


async def test_destroy_racing_with_saves_leaves_nothing(make_store: StoreFactory) -> None:
    store = make_store()
    sid = new_id()
    await store.create(sid, {})

    async def late_save(i: int) -> None:
        with contextlib.suppress(SessionGone):
            await store.save(sid, {f"k{i}": i})

    await asyncio.gather(
        *(late_save(i) for i in range(20)),
        store.destroy(sid),
        *(late_save(i) for i in range(20, 40)),
    )
    assert await store.load(sid) is None


async def test_an_idle_session_expires_on_read(make_store: StoreFactory) -> None:
    store = make_store(idle_timeout=0.4)
    sid = new_id()
    await store.create(sid, {"x": 1})
    assert await store.load(sid) is not None
    await eventually(lambda: _absent(store, sid), limit=5.0)
    with pytest.raises(SessionGone):
        await store.save(sid, {"x": 2})
    assert await store.touch(sid) is None


async def test_touch_renews_the_idle_expiry_and_keeps_the_data(make_store: StoreFactory) -> None:
    store = make_store(idle_timeout=0.8)
    sid = new_id()
    created = await store.create(sid, {"x": 1})
    for _ in range(4):  # 1.2 s in all: longer than the idle timeout
        await asyncio.sleep(0.3)
        assert await store.touch(sid) is not None
    loaded = await store.load(sid)
    assert loaded is not None
    assert loaded.data == {"x": 1}
    assert loaded.expires_at > created.expires_at


async def test_nothing_renews_a_session_past_its_absolute_deadline(
    make_store: StoreFactory,
) -> None:
    store = make_store(idle_timeout=30, absolute_timeout=0.6)
    sid = new_id()
    created = await store.create(sid, {"x": 1})
    assert created.expires_at == pytest.approx(created.deadline, abs=0.01)
    assert await store.touch(sid) <= created.deadline + 0.001  # type: ignore[operator]
    saved = await store.save(sid, {"x": 2})
    assert saved.expires_at <= created.deadline + 0.001
    await eventually(lambda: _absent(store, sid), limit=5.0)


async def test_a_users_sessions_are_listed_and_ended_but_one(make_store: StoreFactory) -> None:
    store = make_store()
    mine = [new_id() for _ in range(3)]
    theirs = new_id()
    for sid in mine:
        await store.create(sid, {"user_id": "alice"})
    await store.create(theirs, {"user_id": "bob"})
    anonymous = new_id()
    await store.create(anonymous, {})
    assert sorted(await store.session_ids_of("alice")) == sorted(mine)
    ended = await store.destroy_sessions_of("alice", keep=mine[0])
    assert sorted(ended) == sorted(mine[1:])
    assert await store.session_ids_of("alice") == [mine[0]]
    assert await store.session_ids_of("bob") == [theirs]
    assert await store.load(anonymous) is not None


async def test_the_user_index_follows_login_and_logout(make_store: StoreFactory) -> None:
    store = make_store()
    sid = new_id()
    await store.create(sid, {})
    await store.save(sid, {"user_id": "alice"})
    assert await store.session_ids_of("alice") == [sid]
    await store.save(sid, {"user_id": "bob"})
    assert await store.session_ids_of("alice") == []
    assert await store.session_ids_of("bob") == [sid]
    await store.save(sid, {"user_id": DELETED})
    assert await store.session_ids_of("bob") == []


async def test_a_new_store_object_sees_the_stored_sessions(make_store: StoreFactory) -> None:
    if make_store.kind == "memory":  # type: ignore[attr-defined]
        pytest.skip("memory sessions live and die with their store object, by design")
    sid = new_id()
    first = make_store()
    created = await first.create(sid, {"user_id": "alice", "theme": "dark"})
    await first.close()
    second = make_store()  # a restart: the same backing data, a new process's store
    loaded = await second.load(sid)
    assert loaded is not None and loaded.data == {"user_id": "alice", "theme": "dark"}
    assert await second.session_ids_of("alice") == [sid]
    # The deadlines survive too (to the millisecond Redis and MongoDB keep).
    assert loaded.expires_at == pytest.approx(created.expires_at, abs=0.001)
    assert loaded.deadline == pytest.approx(created.deadline, abs=0.001)
    second.clock = lambda: created.expires_at + 0.01
    assert await second.load(sid) is None


async def test_two_store_objects_on_one_backend_never_lose_writes(make_store: StoreFactory) -> None:
    if make_store.kind == "memory":  # type: ignore[attr-defined]
        pytest.skip("memory sessions are not shared between store objects, by design")
    one, two = make_store(), make_store()
    sid = new_id()
    await one.create(sid, {})
    await asyncio.gather(
        *(one.save(sid, {f"a{i}": i}) for i in range(25)),
        *(two.save(sid, {f"b{i}": i}) for i in range(25)),
    )
    data = (await two.load(sid)).data  # type: ignore[union-attr]
    assert all(data[f"a{i}"] == i and data[f"b{i}"] == i for i in range(25))


async def _absent(store: SessionStore, sid: str) -> bool:
    return await store.load(sid) is None
