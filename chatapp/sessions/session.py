"""The session as request handlers and socket events see it, and its cookie.

A `Session` is one request's (or one socket event's) view of a stored
session: it remembers which keys were set or deleted and saves exactly those
as one patch against the revision it loaded, so concurrent requests and
socket events of one client never overwrite each other's keys. Nothing is
written for a request that changed nothing, and an anonymous visitor gets a
stored session (and a cookie) only when something is first written.

The cookie holds only the session id, signed with Tornado's signed values.
Its signature is checked before any store access and the id's exact format
before it reaches a backend; an id that the store does not know is never
adopted: the next write issues a fresh one.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, MutableMapping
from typing import Any

from tornado.web import decode_signed_value

from stores.base import DELETED, USER_ID_KEY, SessionRecord, SessionStore, check_key, encode_value

COOKIE_NAME = "chatapp_session"
#: Called with (session id, reason) once a session id is ended: its sockets must end too.
EndHook = Callable[[str, str], Awaitable[None]]
_ID_FORMAT = re.compile(r"^[A-Za-z0-9_-]{43}$")  # secrets.token_urlsafe(32): 256 bits


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


class Session(MutableMapping[str, Any]):
    """Dict-like session data; assign values, don't mutate them in place.

    An in-place change to a nested value (`session["prefs"]["theme"] = ...`)
    is not seen; assign the whole value instead, as with Flask's session.
    """

    def __init__(
        self, store: SessionStore, record: SessionRecord | None, on_end: EndHook | None = None
    ) -> None:
        self._store = store
        self._on_end = on_end
        self._record = record
        self._data: dict[str, Any] = dict(record.data) if record else {}
        self._changes: dict[str, Any] = {}
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
        self._changes[key] = value

    def __delitem__(self, key: str) -> None:
        del self._data[key]
        self._changes[key] = DELETED

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
    def changed(self) -> bool:
        return bool(self._changes)

    @property
    def record(self) -> SessionRecord | None:
        """What was last loaded or saved: revision and expiry."""
        return self._record

    # -- persistence ------------------------------------------------------------------

    async def save(self) -> None:
        """Store the changed keys as one patch; create the session on its first write.

        Raises SessionConflict or SessionGone from the store; on success the
        view holds the stored data, other writers' keys included.
        """
        if not self._changes or self.ended:
            return
        if self._record is None:
            self._record = await self._store.create(new_session_id(), self._data)
            self.id_changed = True
        else:
            self._record = await self._store.save(
                self._record.id, self._changes, base_revision=self._record.revision
            )
        self._data = dict(self._record.data)
        self._changes = {}

    async def regenerate(self) -> None:
        """Move the data, unsaved changes included, to a new id; destroy the old id.

        Call at login and on privilege change, so an id known before login
        (session fixation) is worthless after it. The new session's absolute
        deadline starts now.
        """
        old = self._record
        self._record = await self._store.create(new_session_id(), self._data)
        self._data = dict(self._record.data)
        self._changes = {}
        self.id_changed = True
        if old is not None:
            await self._end(old.id, "regenerated")

    async def destroy(self, reason: str = "logout") -> None:
        """End the session in the store and its sockets; later saves and touches do nothing."""
        if self._record is not None:
            await self._end(self._record.id, reason)
        self._record = None
        self._data = {}
        self._changes = {}
        self.ended = True

    async def _end(self, session_id: str, reason: str) -> None:
        await self._store.destroy(session_id)
        if self._on_end is not None:
            await self._on_end(session_id, reason)

    async def renew_if_due(self, touch_interval: float) -> None:
        """Renew the idle expiry if at least `touch_interval` passed since the last renewal.

        Throttled so that a busy client costs a store write per interval, not per request.
        """
        record = self._record
        if record is None or self.ended:
            return
        wanted = min(time.time() + self._store.idle_timeout, record.deadline)
        if wanted - record.expires_at < touch_interval:
            return
        expires_at = await self._store.touch(record.id)
        if expires_at is not None:
            self._record = SessionRecord(
                record.id, record.data, record.revision, expires_at, record.deadline
            )


class SessionCookies:
    """Reads session ids from signed cookie values; knows the cookie's attributes."""

    def __init__(
        self,
        store: SessionStore,
        *,
        secret: str,
        secure: bool,
        touch_interval: float,
        on_end: EndHook | None = None,
    ) -> None:
        self.store = store
        self.secret = secret
        self.secure = secure
        self.touch_interval = touch_interval
        self.on_end = on_end

    def session_id(self, cookie_value: str | None) -> str | None:
        """The id in a signed cookie value, or None if unsigned, forged, too old or malformed."""
        if not cookie_value:
            return None
        decoded = decode_signed_value(
            self.secret,
            COOKIE_NAME,
            cookie_value,
            max_age_days=self.store.absolute_timeout / 86400,
        )
        if decoded is None:
            return None
        try:
            session_id = decoded.decode("ascii")
        except UnicodeDecodeError:
            return None
        return session_id if _ID_FORMAT.match(session_id) else None

    async def load(self, cookie_value: str | None) -> Session:
        """The session a cookie names, or an anonymous one; nothing is stored for either."""
        session_id = self.session_id(cookie_value)
        record = await self.store.load(session_id) if session_id else None
        return Session(self.store, record, self.on_end)

    def session(self, record: SessionRecord | None) -> Session:
        """A view of a record loaded elsewhere (a socket event), with the same end hook."""
        return Session(self.store, record, self.on_end)

    @property
    def cookie_attributes(self) -> Mapping[str, Any]:
        """The cookie's attributes; its `expires` is the session's deadline, never later."""
        return {"httponly": True, "samesite": "Lax", "secure": self.secure, "path": "/"}
