"""The session as request handlers and socket events see it: the one write path.

A `Session` is one request's (or one socket event's) view of a stored
session, and the one write path for both transports. It remembers what was
written and saves exactly those keys as one patch when the request ends
(`commit`), so concurrent requests and socket events of one client never
overwrite each other's keys:

- `session[key] = value` is a *blind* write: its value does not depend on
  what was read, and of two writes of one key the later wins.

`commit` costs at most one store write, renewal included: a save renews the
idle expiry itself, and a request that wrote nothing renews it only once per
`touch_interval`. An anonymous visitor gets a stored session (and a cookie)
only when something is first written.

The session holds the user's id, never a copy of the user: who that is (their
display name) comes from the data layer, so a rename shows in every login.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any, Protocol

from stores.base import (
    USER_ID_KEY,
    SessionRecord,
    SessionStore,
    changed_keys,
    check_key,
    encode_value,
)
from stores.errors import SessionGone

#: Logins, logouts and revocations: one line each, naming users, never a session id.
auth_log = logging.getLogger("chatapp.auth")

#: Kept in every logged-in session (so every store lists devices with no new primitive):
#: {"created", "agent", "address"} set at login, and the time of the last renewal, which
#: moves at `touch_interval` and so costs no write of its own.
DEVICE_KEY = "device"
SEEN_KEY = "seen"


class SessionSockets(Protocol):
    """What a session's end or new id means for its sockets (chatapp.realtime's registry)."""

    async def end_session(self, session_id: str, reason: str) -> None:
        """Tell every socket of the session why, then disconnect them, in every process."""

    async def rebind_session(self, old_id: str, new_id: str) -> None:
        """Move every socket of the session to its new id, in every process."""


#: What `new_session_id` makes: 43 URL-safe characters, 256 random bits.
ID_FORMAT = re.compile(r"[A-Za-z0-9_-]{43}")


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


def store_key(session_id: str) -> str:
    """What a session is stored and known by inside the server: a SHA-256 of its id.

    The id itself (256 random bits) lives only in the browser's signed cookie.
    Everything server-side (the store, socket rooms, login handles, logs) has
    the key, which opens nothing: a store dump, or a driver's DEBUG log of
    commands, holds no id a cookie could carry. Unsalted, as it must be found
    from the cookie; a preimage of 256 random bits is out of reach.
    """
    return hashlib.sha256(session_id.encode("ascii")).hexdigest()


class Session(MutableMapping[str, Any]):
    """Dict-like session data; assign values, don't mutate them in place.

    An in-place change to a nested value (`session["cart"].append(...)`) is
    not seen; assign the whole value, or use `edit` when the new value is
    computed from the old one.
    """

    def __init__(
        self,
        store: SessionStore,
        record: SessionRecord | None,
        *,
        touch_interval: float,
        sockets: SessionSockets | None = None,
        cookie_id: str | None = None,
    ) -> None:
        self._store = store
        #: The id the cookie carries (`record.id` is its store key); set for a session
        #: loaded from a cookie or made here, None for one loaded by key (a socket's).
        self.cookie_id = cookie_id
        self._touch_interval = touch_interval
        self._sockets = sockets
        self._record = record
        self._data: dict[str, Any] = dict(record.data) if record else {}
        #: Something was written since the last save; what, the save finds by comparing
        #: with the stored record (a blind patch of the keys that differ).
        self._unsaved = False
        #: Renewal is considered once per request: a handler that commits early (to
        #: answer with the renewed expiry) is not renewed again by the final commit.
        self._renewal_considered = False
        #: True once the id changed (created, regenerated) and the cookie must be sent.
        self.id_changed = False
        #: True once destroyed; the cookie must be cleared.
        self.ended = False

    # -- the mapping ------------------------------------------------------------------

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        encode_value(check_key(key), value)  # refuse what cannot be stored now, not at save
        self._data[key] = value
        self._unsaved = True

    def __delitem__(self, key: str) -> None:
        del self._data[key]
        self._unsaved = True

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    # -- state ------------------------------------------------------------------------

    @property
    def id(self) -> str | None:
        """The stored session's id; None while anonymous and unsaved, or after destroy."""
        return self._record.id if self._record else None

    @property
    def user_id(self) -> str | None:
        value = self._data.get(USER_ID_KEY)
        return value if isinstance(value, str) else None

    @property
    def record(self) -> SessionRecord | None:
        """What was last loaded or saved: its data and expiry."""
        return self._record

    # -- persistence ------------------------------------------------------------------

    async def commit(self) -> None:
        """End of a request or socket event: save what was written, else renew if due.

        At most one store write, renewal included, however often it is called in
        one request (a later call saves only what was written since). Raises
        SessionGone if the session ended meanwhile.
        """
        renew, self._renewal_considered = not self._renewal_considered, True
        if renew and self.user_id is not None and self._renewal_due():
            self[SEEN_KEY] = self._store.clock()  # the save renews the expiry: still one write
        if not await self.save() and renew:
            await self.renew_if_due()

    async def save(self) -> bool:
        """Store what was written as one patch (creating the session on its first write).

        True if a write was made; on success the view holds the stored data,
        other writers' keys included.
        """
        unsaved, self._unsaved = self._unsaved, False
        if not unsaved or self.ended:
            return False
        if self._record is None:
            self._record = await self._create()
        else:
            saved = await self._save_patch(self._record)
            if saved is None:
                return False
            self._record = saved
        self._data = dict(self._record.data)
        return True

    async def _save_patch(self, record: SessionRecord) -> SessionRecord | None:
        """The keys written, as written: a blind patch, so another writer's keys are kept
        and, for a key both wrote, the later write wins (never a conflict)."""
        changes = changed_keys(record.data, self._data)
        if not changes:
            return None
        return await self._store.save(record.id, changes)

    async def log_in(self, user_id: str, device: Mapping[str, Any]) -> None:
        """Bind the user to this session under a new id (see `regenerate`).

        `device` ({"agent", "address"}) is kept for the user's list of logins.
        """
        now = self._store.clock()
        self[USER_ID_KEY] = user_id
        self[DEVICE_KEY] = {**device, "created": now}
        self[SEEN_KEY] = now
        await self.regenerate()

    async def regenerate(self, *, keep_sockets: bool = False) -> None:
        """Move the data, unsaved changes included, to a new id; destroy the old id.

        Call at login and on privilege change, so an id known before login
        (session fixation) is worthless after it. The new session's absolute
        deadline starts now. The old id's sockets end, unless `keep_sockets`:
        then they are moved to the new id first (a password change keeps the
        caller's own tabs working).
        """
        old = self._record
        new = await self._create()
        self._data = dict(new.data)
        self._unsaved = False
        if old is None:
            return
        if keep_sockets and self._sockets is not None:
            await self._sockets.rebind_session(old.id, new.id)
            await self._store.destroy(old.id)
        else:
            await self._end(old.id, "regenerated")

    async def _create(self) -> SessionRecord:
        """Store the data under a fresh id (the cookie's) and its key (the store's)."""
        self.cookie_id = new_session_id()
        self._record = await self._store.create(store_key(self.cookie_id), self._data)
        self.id_changed = True
        return self._record

    async def destroy(self, reason: str = "logout") -> None:
        """End the session in the store and its sockets; later saves and touches do nothing."""
        if self._record is not None:
            await self._end(self._record.id, reason)
            if self.user_id is not None:
                auth_log.info("session ended (%s): user %s", reason, self.user_id)
        self._record = None
        self._data = {}
        self._unsaved = False
        self.ended = True

    async def _end(self, session_id: str, reason: str) -> None:
        await end_session(self._store, self._sockets, session_id, reason)

    def _renewal_due(self) -> bool:
        """True if a renewal would move the expiry by `touch_interval`, or up to the deadline.

        Throttled so that a busy client costs a store write per interval, not per
        request. Near the absolute deadline no renewal gains a whole interval: the
        one that reaches the deadline is due all the same, so an active session
        lives until exactly its deadline.
        """
        record = self._record
        if record is None or self.ended:
            return False
        wanted = min(self._store.clock() + self._store.idle_timeout, record.deadline)
        gain = wanted - record.expires_at
        return gain >= self._touch_interval or (gain > 0 and wanted >= record.deadline)

    async def renew(self) -> None:
        """Renew the idle expiry now, whatever the throttle ("stay logged in"): one write,
        which moves `last_seen` too. SessionGone if the session has ended."""
        if self._record is None or self.ended:
            raise SessionGone("(none)")
        self._renewal_considered = True
        self[SEEN_KEY] = self._store.clock()
        await self.save()

    async def renew_if_due(self) -> None:
        """Renew the idle expiry if `touch_interval` passed since the last renewal."""
        record = self._record
        if record is None or not self._renewal_due():
            return
        expires_at = await self._store.touch(record.id)
        if expires_at is None:
            raise SessionGone(record.id)
        self._record = SessionRecord(record.id, record.data, expires_at, record.deadline)


async def end_session(
    store: SessionStore, sockets: SessionSockets | None, session_id: str, reason: str
) -> None:
    """End a session: gone from the store, then its sockets told and disconnected.

    The one way a session ends (logout, revocation, password change, login again).
    """
    await store.destroy(session_id)
    if sockets is not None:
        await sockets.end_session(session_id, reason)
