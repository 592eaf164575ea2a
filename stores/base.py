"""The abstract SessionStore: the guarantees every backend gives.

A session is a flat mapping of keys to JSON values. Writers never send the
whole mapping back: a save is a *patch* of the keys a writer set or deleted,
applied atomically, so two writers of different keys both win and the later
writer of one key wins. (No revision is kept: chatapp's writes never depend on
what they read, so there is nothing for a revision to protect.)

The base owns what is the same everywhere (id checks, JSON, expiry on read); a
backend implements a few primitives, each of which must be atomic on its own.
"""

from __future__ import annotations

import abc
import json
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass
from functools import wraps
from typing import Any, ClassVar, Concatenate, Final, ParamSpec, TypeVar

from stores.errors import SessionGone, SessionValueError, StoreUnavailable

#: The data key whose value (a string) is indexed: a user's sessions can be listed.
USER_ID_KEY: Final = "user_id"
#: Longest id a store accepts; anything else is an unknown session.
MAX_ID_LENGTH: Final = 256
#: Longest key name a store accepts.
MAX_KEY_LENGTH: Final = 256


class _Deleted:
    def __repr__(self) -> str:
        return "DELETED"


#: Use as a value in `SessionStore.save` changes to delete that key.
DELETED: Final = _Deleted()

#: Encoded changes as backends see them: JSON text, or None to delete the key.
EncodedChanges = dict[str, str | None]


@dataclass(frozen=True)
class SessionRecord:
    """A session as loaded: its data and its expiry."""

    id: str
    data: Mapping[str, Any]
    expires_at: float  # epoch seconds: the sliding idle expiry, never past deadline
    deadline: float  # epoch seconds: the absolute expiry, fixed at creation

    @property
    def user_id(self) -> str | None:
        value = self.data.get(USER_ID_KEY)
        return value if isinstance(value, str) else None

    @property
    def extendable(self) -> bool:
        """False once the idle expiry is the deadline: nothing can move the end any more."""
        return self.expires_at < self.deadline


@dataclass
class StoredSession:
    """A session as a backend keeps it: values still JSON text."""

    id: str
    data: dict[str, str]
    expires_at: float
    deadline: float

    @property
    def user_id(self) -> str | None:
        return user_id_of(self.data.get(USER_ID_KEY))


def user_id_of(encoded: str | None) -> str | None:
    """The user id that an encoded `user_id` value names, if it is a string."""
    if encoded is None:
        return None
    value = decode_value(encoded)
    return value if isinstance(value, str) else None


_DECODER = json.JSONDecoder()


def decode_value(encoded: str) -> Any:
    """A stored value back from its JSON text.

    Every load and save decodes each value of the session, and `json.loads`
    spent most of its time around the C scanner (two whitespace searches and
    three Python calls): 6 µs for a login's five keys, against 2.7 µs so.
    Text that is not one compact JSON value (older or hand-written) takes
    `json.loads`, which accepts or refuses it exactly as before.
    """
    try:
        value, end = _DECODER.raw_decode(encoded)
    except ValueError:
        return json.loads(encoded)
    return value if end == len(encoded) else json.loads(encoded)


def encode_value(key: str, value: Any) -> str:
    """JSON text of a value, or SessionValueError naming the key."""
    try:
        return json.dumps(value, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise SessionValueError(
            f"session value for {key!r} is not JSON-serialisable: {exc}"
        ) from None


def check_key(key: object) -> str:
    """A key as given, or SessionValueError when it is not a short non-empty string."""
    if not isinstance(key, str) or not 0 < len(key) <= MAX_KEY_LENGTH:
        raise SessionValueError(
            f"session keys are strings of 1 to {MAX_KEY_LENGTH} characters, not {key!r}"
        )
    return key


def is_plausible_id(session_id: object) -> bool:
    return isinstance(session_id, str) and 0 < len(session_id) <= MAX_ID_LENGTH


#: Told of every call to a store's public interface: its name, its seconds, and whether
#: the store failed to answer (StoreUnavailable). For metrics; it must not raise.
Observer = Callable[[str, float, bool], None]
P = ParamSpec("P")
R = TypeVar("R")


def observed(
    call: Callable[Concatenate[SessionStore, P], Awaitable[R]],
) -> Callable[Concatenate[SessionStore, P], Coroutine[Any, Any, R]]:
    """Time a public call for the store's `observer`, if it has one."""

    @wraps(call)
    async def timed(store: SessionStore, /, *args: P.args, **kwargs: P.kwargs) -> R:
        if store.observer is None:
            return await call(store, *args, **kwargs)
        started, failed = time.perf_counter(), False
        try:
            return await call(store, *args, **kwargs)
        except StoreUnavailable:
            failed = True
            raise
        finally:
            store.observer(call.__name__, time.perf_counter() - started, failed)

    return timed


class SessionStore(abc.ABC):
    """Where sessions live between requests; see the module docstring.

    Guarantees, for every backend:

    - `load` of an unknown, destroyed or expired id returns None and stores
      nothing; expiry is checked on every read, not only by a reaper.
    - `save` applies a patch atomically or raises; it never recreates a session
      that was destroyed or has expired (`SessionGone`).
    - `touch` renews the idle expiry without rewriting data, never past the
      deadline set at creation, and never revives a session.
    - `session_ids_of` lists the live sessions whose `user_id` is that user.
    """

    #: Short name used in settings, logs and /healthz.
    name: ClassVar[str]

    def __init__(self, *, idle_timeout: float, absolute_timeout: float) -> None:
        if idle_timeout <= 0 or absolute_timeout <= 0:
            raise ValueError("session timeouts must be positive")
        self.idle_timeout = idle_timeout
        self.absolute_timeout = absolute_timeout
        #: Epoch seconds now: every expiry decision of a store asks this, not its server,
        #: so app hosts and a store server need not agree on the time (tests move it on).
        self.clock: Callable[[], float] = time.time
        #: Told of each public call (chatapp's metrics set it); None: nobody is.
        self.observer: Observer | None = None

    # -- the public interface -------------------------------------------------

    @observed
    async def load(self, session_id: str) -> SessionRecord | None:
        """The live session with this id, or None."""
        if not is_plausible_id(session_id):
            return None
        stored = await self._read(session_id)
        if stored is None or stored.expires_at <= self.clock():
            return None
        return self._record(stored)

    @observed
    async def create(self, session_id: str, data: Mapping[str, Any]) -> SessionRecord:
        """Store a new session; its deadline is now plus the absolute timeout.

        The id must be fresh (see `new_session_id` in the caller); a store
        never adopts an id a client chose.
        """
        if not is_plausible_id(session_id):
            raise ValueError("session ids are strings of 1 to 256 characters")
        now = self.clock()
        deadline = now + self.absolute_timeout
        stored = StoredSession(
            id=session_id,
            data={check_key(k): encode_value(k, v) for k, v in data.items()},
            expires_at=self._expiry_from(now, deadline),
            deadline=deadline,
        )
        await self._insert(stored)
        return self._record(stored)

    @observed
    async def save(self, session_id: str, changes: Mapping[str, Any]) -> SessionRecord:
        """Apply the keys set (or set to DELETED), atomically; renews the idle expiry.

        Raises SessionGone if the session was destroyed or expired: a late save
        never recreates it.
        """
        if not is_plausible_id(session_id):
            raise SessionGone(str(session_id))
        encoded: EncodedChanges = {
            check_key(k): None if v is DELETED else encode_value(k, v) for k, v in changes.items()
        }
        return self._record(await self._apply(session_id, encoded, self.clock()))

    @observed
    async def touch(self, session_id: str) -> float | None:
        """Renew the idle expiry; the new expiry, or None if the session is gone."""
        if not is_plausible_id(session_id):
            return None
        return await self._touch(session_id, self.clock())

    @observed
    async def destroy(self, session_id: str) -> None:
        """Remove the session; any save or touch still in flight then fails."""
        if is_plausible_id(session_id):
            await self._delete(session_id)

    @observed
    async def sessions_of(self, user_id: str) -> list[SessionRecord]:
        """The live sessions of this user, checked against their data."""
        live = []
        for session_id in await self._indexed_ids(user_id):
            record = await self.load(session_id)
            if record is not None and record.user_id == user_id:
                live.append(record)
        return live

    async def session_ids_of(self, user_id: str) -> list[str]:
        """Ids of the live sessions of this user."""
        return [record.id for record in await self.sessions_of(user_id)]

    async def destroy_sessions_of(self, user_id: str, *, keep: str | None = None) -> list[str]:
        """Destroy every session of this user but `keep`; the ids destroyed."""
        ended = [sid for sid in await self.session_ids_of(user_id) if sid != keep]
        for session_id in ended:
            await self.destroy(session_id)
        return ended

    async def sweep(self) -> int:
        """Remove expired sessions now; the number removed.

        Backends whose server expires entries itself (MongoDB, Redis) need no
        sweep; the others rely on the application calling this periodically.
        """
        return 0

    async def prepare(self) -> None:
        """Create what the backend needs (indexes); idempotent, called at start-up."""

    async def ping(self) -> None:
        """Return if the backing server answers; raise StoreUnavailable otherwise."""

    async def close(self) -> None:
        """Release connections and threads."""

    # -- what a backend implements --------------------------------------------

    @abc.abstractmethod
    async def _read(self, session_id: str) -> StoredSession | None:
        """The stored session, or None; an expired one may be returned."""

    @abc.abstractmethod
    async def _insert(self, stored: StoredSession) -> None:
        """Store a new session; fail if the id exists."""

    @abc.abstractmethod
    async def _apply(self, session_id: str, changes: EncodedChanges, now: float) -> StoredSession:
        """Atomically, on a live session: apply the changes and renew the idle expiry;
        SessionGone if it is not live."""

    @abc.abstractmethod
    async def _touch(self, session_id: str, now: float) -> float | None:
        """Atomically renew the expiry of a live session to min(now + idle, deadline)."""

    @abc.abstractmethod
    async def _delete(self, session_id: str) -> None:
        """Remove the session and its index entry, if any."""

    @abc.abstractmethod
    async def _indexed_ids(self, user_id: str) -> Iterable[str]:
        """Ids the user index holds for this user; may include stale ones."""

    # -- helpers for backends ------------------------------------------------------

    def _expiry_from(self, now: float, deadline: float) -> float:
        """The idle expiry a save or touch at `now` sets: never past the deadline."""
        return min(now + self.idle_timeout, deadline)

    def _apply_in_place(self, stored: StoredSession, changes: EncodedChanges, now: float) -> None:
        """Apply a patch to a session held under the backend's lock (memory, file)."""
        for key, value in changes.items():
            if value is None:
                stored.data.pop(key, None)
            else:
                stored.data[key] = value
        stored.expires_at = self._expiry_from(now, stored.deadline)

    @staticmethod
    def _record(stored: StoredSession) -> SessionRecord:
        return SessionRecord(
            id=stored.id,
            data={k: decode_value(v) for k, v in stored.data.items()},
            expires_at=stored.expires_at,
            deadline=stored.deadline,
        )


def changed_keys(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """The changes that turn `before` into `after`, deletions as DELETED."""
    changes: dict[str, Any] = {k: v for k, v in after.items() if k not in before or before[k] != v}
    changes.update({k: DELETED for k in before if k not in after})
    return changes
