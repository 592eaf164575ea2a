"""Sessions in this process's memory: for development and single-process use.

Every primitive below runs without awaiting, so on one event loop each is
atomic. Values stay JSON text, so no caller can mutate a stored session
through an object it loaded.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import replace

from stores.base import USER_ID_KEY, EncodedChanges, SessionStore, StoredSession
from stores.errors import SessionGone, SessionStoreError

log = logging.getLogger(__name__)


class MemorySessionStore(SessionStore):
    """At most `max_sessions`. When full, the expired go first, then the least recently
    used anonymous session, and only when there is none the least recently used login:
    visitors who never logged in cannot push a logged-in user out."""

    name = "memory"

    def __init__(
        self, *, idle_timeout: float, absolute_timeout: float, max_sessions: int = 100_000
    ) -> None:
        super().__init__(idle_timeout=idle_timeout, absolute_timeout=absolute_timeout)
        if max_sessions < 1:
            raise ValueError("max_sessions must be at least 1")
        self.max_sessions = max_sessions
        # Least recently used first: reads, touches and saves move a session to the end.
        self._sessions: OrderedDict[str, StoredSession] = OrderedDict()
        self._anonymous: OrderedDict[str, None] = OrderedDict()  # the same order, no user
        self._by_user: dict[str, set[str]] = {}
        log.warning(
            "memory session store: sessions live in this one process and are lost on "
            "restart; use file, mongodb or redis for several processes"
        )

    def __len__(self) -> int:
        return len(self._sessions)

    async def _read(self, session_id: str) -> StoredSession | None:
        stored = self._live(session_id, self.clock())
        if stored is None:
            return None
        self._used(session_id)
        return stored  # the base only reads it, and decodes its data into a record of its own

    async def _insert(self, stored: StoredSession) -> None:
        if stored.id in self._sessions:
            raise SessionStoreError(f"session id already exists: {stored.id!r}")
        if len(self._sessions) >= self.max_sessions:
            self._sweep(self.clock())
        while len(self._sessions) >= self.max_sessions:
            evicted = next(iter(self._anonymous), None) or next(iter(self._sessions))
            log.warning(
                "memory session store full (%d sessions): evicted the least recently used %s",
                self.max_sessions,
                "anonymous session" if evicted in self._anonymous else "login",
            )
            self._unindex(evicted)
            del self._sessions[evicted]
        self._sessions[stored.id] = replace(stored, data=dict(stored.data))
        self._index(stored)

    async def _apply(self, session_id: str, changes: EncodedChanges, now: float) -> StoredSession:
        stored = self._live(session_id, now)
        if stored is None:
            raise SessionGone(session_id)
        if USER_ID_KEY not in changes:  # who it belongs to stays: so does its index entry
            self._apply_in_place(stored, changes, now)
        else:
            self._unindex(session_id)
            try:
                self._apply_in_place(stored, changes, now)
            finally:
                self._index(stored)
        self._used(session_id)
        return stored

    async def _touch(self, session_id: str, now: float) -> float | None:
        stored = self._live(session_id, now)
        if stored is None:
            return None
        stored.expires_at = self._expiry_from(now, stored.deadline)
        self._used(session_id)
        return stored.expires_at

    async def _delete(self, session_id: str) -> None:
        self._unindex(session_id)
        self._sessions.pop(session_id, None)

    async def _indexed_ids(self, user_id: str) -> Iterable[str]:
        return list(self._by_user.get(user_id, ()))

    async def sweep(self) -> int:
        return self._sweep(self.clock())

    def _sweep(self, now: float) -> int:
        expired = [sid for sid, s in self._sessions.items() if s.expires_at <= now]
        for session_id in expired:
            self._unindex(session_id)
            del self._sessions[session_id]
        if len(expired) > len(self._sessions):
            # A dict never shrinks by deletion: after a flood of visitors, the tables
            # sized for it would stay for good. Copies are sized for what is left.
            self._sessions = OrderedDict(self._sessions)
            self._anonymous = OrderedDict(self._anonymous)
        return len(expired)

    def _live(self, session_id: str, now: float) -> StoredSession | None:
        stored = self._sessions.get(session_id)
        if stored is not None and stored.expires_at <= now:
            self._unindex(session_id)
            del self._sessions[session_id]
            return None
        return stored

    def _used(self, session_id: str) -> None:
        self._sessions.move_to_end(session_id)
        if session_id in self._anonymous:
            self._anonymous.move_to_end(session_id)

    def _index(self, stored: StoredSession) -> None:
        user_id = stored.user_id
        if user_id is None:
            self._anonymous[stored.id] = None
        else:
            self._by_user.setdefault(user_id, set()).add(stored.id)

    def _unindex(self, session_id: str) -> None:
        self._anonymous.pop(session_id, None)
        stored = self._sessions.get(session_id)
        user_id = stored.user_id if stored else None
        if user_id is None:
            return
        ids = self._by_user.get(user_id)
        if ids is not None:
            ids.discard(session_id)
            if not ids:  # prune empty entries, as python-socketio's rooms do
                del self._by_user[user_id]
