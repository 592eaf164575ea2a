"""A user's logins, as "Where you're logged in" shows them: see and end any of them.

Everything shown is kept in the session itself (chatapp.sessions.session's
DEVICE_KEY and SEEN_KEY), so every store lists logins through its user index
with no new primitive. A login is named by a handle: a keyed hash of its
session id, which never becomes a session id again, so a handle in a page or
a log is no cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from chatapp.sessions.cookies import SessionCookies
from chatapp.sessions.session import DEVICE_KEY, SEEN_KEY, auth_log
from chatapp.times import iso_epoch
from stores.base import SessionRecord

_HANDLE = re.compile(r"[0-9a-f]{32}")
#: The sockets of one login, counted in every process (the realtime registry).
SocketCount = Callable[[str], Awaitable[int]]
#: Tells a user's open pages that their list of logins changed.
Changed = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class Login:
    handle: str
    current: bool
    created_at: float
    last_seen: float
    user_agent: str
    address: str
    sockets: int

    def public(self) -> dict[str, Any]:
        return {
            "id": self.handle,
            "current": self.current,
            "created_at": iso_epoch(self.created_at),
            "last_seen": iso_epoch(self.last_seen),
            "user_agent": self.user_agent,
            "address": self.address,
            "sockets": self.sockets,
        }


class Logins:
    def __init__(
        self, cookies: SessionCookies, socket_count: SocketCount, changed: Changed
    ) -> None:
        self.cookies = cookies
        self.store = cookies.store
        self.socket_count = socket_count
        #: Called after each change this class makes (the Settings page re-reads the list).
        self.changed = changed
        self._key = hashlib.sha256(b"login handles\0" + cookies.secret.encode()).digest()

    def handle(self, session_id: str) -> str:
        return hmac.new(self._key, session_id.encode(), hashlib.sha256).hexdigest()[:32]

    async def of(self, user_id: str, current_id: str | None) -> list[Login]:
        """The user's live logins, most recently seen first."""
        logins = [
            self._login(record, record.id == current_id, await self.socket_count(record.id))
            for record in await self.store.sessions_of(user_id)
        ]
        return sorted(logins, key=lambda login: login.last_seen, reverse=True)

    async def find(self, user_id: str, handle: str) -> str | None:
        """The session id of the user's live login with this handle, or None."""
        if not _HANDLE.fullmatch(handle):
            return None
        for session_id in await self.store.session_ids_of(user_id):
            if hmac.compare_digest(self.handle(session_id), handle):
                return session_id
        return None

    async def end(self, user_id: str, session_id: str, reason: str) -> None:
        """End one login of the user as logout ends one, and tell their pages."""
        await self.cookies.end(session_id, reason)
        auth_log.info("login %s ended (%s): user %s", self.handle(session_id), reason, user_id)
        await self.changed(user_id)

    async def end_all_but(self, user_id: str, keep: str | None, reason: str) -> int:
        """End every login of the user except `keep`; how many ended."""
        ended = [sid for sid in await self.store.session_ids_of(user_id) if sid != keep]
        for session_id in ended:
            await self.cookies.end(session_id, reason)
        auth_log.info("%d other logins ended (%s): user %s", len(ended), reason, user_id)
        await self.changed(user_id)
        return len(ended)

    def _login(self, record: SessionRecord, current: bool, sockets: int) -> Login:
        device = record.data.get(DEVICE_KEY)
        device = device if isinstance(device, dict) else {}
        created = _number(device.get("created"), record.deadline - self.store.absolute_timeout)
        return Login(
            handle=self.handle(record.id),
            current=current,
            created_at=created,
            last_seen=_number(record.data.get(SEEN_KEY), created),
            user_agent=str(device.get("agent", "")),
            address=str(device.get("address", "")),
            sockets=sockets,
        )


def _number(value: Any, default: float) -> float:
    return float(value) if isinstance(value, int | float) else default
