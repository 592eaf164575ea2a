"""Errors a SessionStore raises; callers catch these, never a driver's own."""

from __future__ import annotations


class SessionStoreError(Exception):
    """Base of every error raised by a session store."""


class StoreUnavailable(SessionStoreError):
    """The backing server did not answer in time or refused the connection.

    Raised instead of hanging: every backend bounds each network call.
    """


class SessionGone(SessionStoreError):
    """The session was destroyed or expired; a late write never revives it."""

    def __init__(self, session_id: str) -> None:
        super().__init__("the session no longer exists (destroyed or expired)")
        self.session_id = session_id


class SessionValueError(SessionStoreError, TypeError):
    """A value that cannot be stored as JSON, raised when it is set."""
