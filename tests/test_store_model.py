"""Every store backend against a plain dict model, over generated programs (Hypothesis).

A program is a list of what the app does to sessions (create, set and delete
keys, log in, regenerate, destroy, touch, sweep) with the clock moved on
between steps. After each step every session ever made must load exactly as
the model says (data, idle expiry, deadline) or not at all, and each user's
index must list exactly their live sessions: a store never returns an
expired session, never revives a destroyed one, and never mixes two up.
The clock is the store's own (`SessionStore.clock`), in whole seconds so
that every backend's precision (Redis and MongoDB keep milliseconds) is exact.
"""

from __future__ import annotations

import math
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stores import DELETED, SessionGone
from stores.base import USER_ID_KEY, SessionStore
from tests.conftest import StoreFactory

IDLE, ABSOLUTE = 60, 300
KEYS = ["theme", "n", "user_id", "d:x", "r:y", "$where", "a.b"]
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.text(max_size=20),
    st.lists(st.integers(0, 9), max_size=3),
    st.dictionaries(st.sampled_from(["a", "b"]), st.integers(0, 9), max_size=2),
)
SESSION = st.integers(0, 7)  # which of the sessions made so far (modulo their number)
USERS = st.sampled_from(["u1", "u2"])
STEPS = st.one_of(
    st.tuples(st.just("create"), st.dictionaries(st.sampled_from(KEYS[:2]), VALUES, max_size=2)),
    st.tuples(st.just("set"), SESSION, st.sampled_from(KEYS), VALUES),
    st.tuples(st.just("delete"), SESSION, st.sampled_from(KEYS)),
    st.tuples(st.just("log_in"), SESSION, USERS),
    st.tuples(st.just("regenerate"), SESSION),
    st.tuples(st.just("destroy"), SESSION),
    st.tuples(st.just("touch"), SESSION),
    st.tuples(st.just("advance"), st.sampled_from([1, 29, 59, 60, 61, 150, ABSOLUTE])),
    st.tuples(st.just("sweep")),
)


@dataclass
class Clock:
    now: float = field(default_factory=lambda: float(math.floor(time.time())))

    def __call__(self) -> float:
        return self.now


@dataclass
class Modelled:
    data: dict[str, Any]
    expires_at: float
    deadline: float


class Model:
    """What the store should hold: sessions by id, including dead ones (as None)."""

    def __init__(self, clock: Clock, users: dict[str, str]) -> None:
        self.clock = clock
        self.users = users
        self.sessions: dict[str, Modelled | None] = {}

    def live(self, sid: str) -> Modelled | None:
        session = self.sessions[sid]
        return session if session and session.expires_at > self.clock.now else None

    def create(self, sid: str, data: dict[str, Any]) -> None:
        deadline = self.clock.now + ABSOLUTE
        self.sessions[sid] = Modelled(dict(data), min(self.clock.now + IDLE, deadline), deadline)

    def renew(self, session: Modelled) -> float:
        session.expires_at = min(self.clock.now + IDLE, session.deadline)
        return session.expires_at


async def run(store: SessionStore, model: Model, step: tuple[Any, ...]) -> None:
    """Do one step to the store and the model alike; what the store answers must match."""
    kind, *args = step
    sids = list(model.sessions)
    sid = sids[args[0] % len(sids)] if sids and kind not in ("create", "advance", "sweep") else ""
    session = model.live(sid) if sid else None
    if kind == "create":
        sid = secrets.token_urlsafe(32)
        await store.create(sid, args[0])
        model.create(sid, args[0])
    elif kind == "advance":
        model.clock.now += args[0]
    elif kind == "sweep":
        await store.sweep()
    elif not sid:
        return
    elif kind in ("set", "delete", "log_in"):
        key, value = args[1], args[2] if kind == "set" else DELETED
        if kind == "log_in":
            key, value = USER_ID_KEY, model.users[args[1]]
        try:
            await store.save(sid, {key: value})
        except SessionGone:
            assert session is None, f"{kind} on a live session: gone"
            return
        assert session is not None, f"{kind} on a dead session succeeded"
        if value is DELETED:
            session.data.pop(key, None)
        else:
            session.data[key] = value
        model.renew(session)
    elif kind == "regenerate":  # as Session.regenerate: copy to a fresh id, end the old
        record = await store.load(sid)
        assert (record is None) == (session is None)
        if record is not None and session is not None:
            new = secrets.token_urlsafe(32)
            await store.create(new, record.data)
            await store.destroy(sid)
            model.create(new, session.data)
            model.sessions[sid] = None
    elif kind == "destroy":
        await store.destroy(sid)
        model.sessions[sid] = None
    elif kind == "touch":
        expected = model.renew(session) if session else None
        assert await store.touch(sid) == expected


async def check(store: SessionStore, model: Model) -> None:
    for sid in model.sessions:
        record, session = await store.load(sid), model.live(sid)
        if session is None:
            assert record is None, f"a dead session loads: {record}"
            continue
        assert record is not None, f"a live session is missing: {session}"
        assert (record.data, record.expires_at, record.deadline) == (
            session.data,
            session.expires_at,
            session.deadline,
        )
        assert record.expires_at > model.clock.now
    for user_id in model.users.values():
        expected = {
            sid
            for sid in model.sessions
            if (live := model.live(sid)) and live.data.get(USER_ID_KEY) == user_id
        }
        assert set(await store.session_ids_of(user_id)) == expected, user_id


@settings(
    max_examples=30,
    derandomize=True,  # the same programs every run: a failure is reproducible
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(program=st.lists(STEPS, min_size=1, max_size=25))
async def test_every_store_behaves_as_the_model(
    make_store: StoreFactory, program: list[tuple[Any, ...]]
) -> None:
    store = make_store(idle_timeout=IDLE, absolute_timeout=ABSOLUTE)
    await store.prepare()
    clock = Clock()
    store.clock = clock
    # Users of this example only: examples share the fixture's backing namespace.
    tag = uuid.uuid4().hex[:8]
    model = Model(clock, {name: f"{name}-{tag}" for name in ("u1", "u2")})
    for step in program:
        await run(store, model, step)
        await check(store, model)
    for sid in model.sessions:
        await store.destroy(sid)
