"""The session cookie: which session a request or socket names, and how it is set.

The cookie holds only the session id, signed with Tornado's signed values;
the server knows the session by its store key, a hash of the id.
Its signature is checked before any store access and the id's exact format
before it reaches a backend; an id that the store does not know is never
adopted: the next write issues a fresh one.

The cookie secret can be rotated without logging anyone out: each secret has
a key version (`key_version`: from its hash), Tornado writes the signing key's
version into every cookie and reads it back with the key that version names
(its `cookie_secret` as a dict and `key_version` setting), so cookies signed
with one of `previous_secrets` are still read at the cost of one check, and
every cookie set from then on is signed with the current secret; a session
read through an old secret gets its cookie set again, so the old secret can
be dropped once the idle timeout has passed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from tornado.web import decode_signed_value

from chatapp.sessions.session import (
    ID_FORMAT,
    Session,
    SessionSockets,
    end_session,
    store_key,
)
from stores.base import SessionRecord, SessionStore

COOKIE_NAME = "chatapp_session"
#: With `secure_cookies`: a browser takes a `__Host-` cookie only if it is Secure, has
#: Path=/ and no Domain, and from HTTPS only, so no subdomain or plain-HTTP page
#: (a network attacker's) can plant or overwrite the session cookie.
SECURE_COOKIE_NAME = "__Host-" + COOKIE_NAME


def key_version(secret: str) -> int:
    """A secret's key version: a number from its hash (never the secret), the same in
    every process and after any reordering of the previous secrets, which Tornado
    writes into each signed cookie so that reading it takes one signature check."""
    return int.from_bytes(hashlib.sha256(secret.encode()).digest()[:4], "big")


def signed_key_version(cookie_value: str) -> int | None:
    """The key version a Tornado v2 signed value names ("2|1:0|..."), or None."""
    fields = cookie_value.split("|", 2)
    if len(fields) < 3 or fields[0] != "2":
        return None
    length, _, number = fields[1].partition(":")
    return int(number) if number.isdigit() and length == str(len(number)) else None


class SessionCookies:
    """Reads session ids from signed cookie values; knows the cookie's attributes."""

    def __init__(
        self,
        store: SessionStore,
        *,
        secret: str,
        previous_secrets: Sequence[str] = (),
        secure: bool,
        touch_interval: float,
        sockets: SessionSockets | None = None,
    ) -> None:
        self.store = store
        self.secret = secret
        self.previous_secrets = tuple(previous_secrets)
        #: Every secret by its key version: Tornado's `cookie_secret` and `key_version`.
        self.keys = {key_version(s): s for s in (*self.previous_secrets, secret)}
        self.key_version = key_version(secret)
        #: What a cookie is checked with: the key its version names, or each secret for
        #: one signed before key versions (version 0).
        self._versioned: tuple[dict[int, str]] = (self.keys,)
        self._unversioned = (secret, *self.previous_secrets)
        self.secure = secure
        self.touch_interval = touch_interval
        self.sockets = sockets

    @property
    def name(self) -> str:
        """The session cookie's name; signatures are made for it."""
        return SECURE_COOKIE_NAME if self.secure else COOKIE_NAME

    def session_id(self, cookie_value: str | None) -> str | None:
        """The store key of the session a signed cookie value names, or None if unsigned,
        forged, too old or malformed (chatapp.sessions.session.store_key)."""
        session_id = self._read(cookie_value)[0]
        return store_key(session_id) if session_id else None

    def _read(self, cookie_value: str | None) -> tuple[str | None, bool]:
        """The id, and whether it was signed with a previous secret."""
        if not cookie_value:
            return None, False
        version = signed_key_version(cookie_value)
        keys = self._unversioned if version == 0 else self._versioned
        for key in keys:
            decoded = decode_signed_value(
                key,
                self.name,
                cookie_value,
                max_age_days=self.store.absolute_timeout / 86400,
                min_version=2,  # Tornado's v1 signatures are weaker; chatapp never issued one
            )
            if decoded is not None:
                break
        else:
            return None, False
        try:
            session_id = decoded.decode("ascii")
        except UnicodeDecodeError:
            return None, False
        if not ID_FORMAT.fullmatch(session_id):
            return None, False
        return session_id, version != self.key_version

    async def load(self, cookie_value: str | None) -> Session:
        """The session a cookie names, or an anonymous one; nothing is stored for either."""
        session_id, old_secret = self._read(cookie_value)
        record = await self.store.load(store_key(session_id)) if session_id else None
        session = self.session(record, cookie_id=session_id if record else None)
        session.id_changed = old_secret and record is not None  # set again, signed anew
        return session

    async def resume(self, session_id: str) -> Session | None:
        """The live session with this store key (a socket's), or None if it has ended."""
        record = await self.store.load(session_id)
        return self.session(record) if record is not None else None

    async def renew(self, session_id: str) -> float | None:
        """Renew a session by its store key now; its new expiry, or None if it has ended."""
        return await self.store.touch(session_id)

    def session(self, record: SessionRecord | None, cookie_id: str | None = None) -> Session:
        """A view of a record loaded elsewhere (a socket event), wired like any other."""
        return Session(
            self.store,
            record,
            touch_interval=self.touch_interval,
            sockets=self.sockets,
            cookie_id=cookie_id,
        )

    async def end(self, session_id: str, reason: str) -> None:
        """End another session of the user (revoked, password changed) as logout ends one."""
        await end_session(self.store, self.sockets, session_id, reason)

    @property
    def cookie_attributes(self) -> Mapping[str, Any]:
        """The cookie's attributes; its `expires` is the session's deadline, never later."""
        return {"httponly": True, "samesite": "Lax", "secure": self.secure, "path": "/"}
