"""Users by id, kept in memory where that can never show a stale name.

Every request and socket event that acts for a user needs the user (their
display name is in the answers); from the database that is a read each time:
a hop to SQLite's thread, a round trip to MongoDB, about a tenth of a
`GET /api/session`. A user changes only by a rename, and every rename goes
through `Social.rename`, which tells this cache. In one process (no message
queue) that is every rename there is, so the cache is exact. With a message
queue another process may rename, and an invalidation sent over Redis could
arrive late or not at all, so there every lookup reads the database.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from chatapp.social.base import Database
from chatapp.social.models import User

#: Users kept; the least recently used goes first (80 bytes of name each, about).
CAPACITY = 10_000


class UserCache:
    def __init__(self, db: Database, *, enabled: bool, capacity: int = CAPACITY) -> None:
        self.db = db
        self.enabled = enabled
        self.capacity = capacity
        self._users: OrderedDict[str, User] = OrderedDict()
        #: Counts renames, so a read that a rename overtook is not kept.
        self._renames = 0

    async def user(self, user_id: str) -> User | None:
        """The user with this id as the database has them now, or None."""
        if not self.enabled:
            return await self.db.user(user_id)
        user = self._users.get(user_id)
        if user is not None:
            self._users.move_to_end(user_id)
            return user
        renames_before = self._renames
        user = await self.db.user(user_id)
        if user is not None and self._renames == renames_before:
            self._users[user_id] = user
            if len(self._users) > self.capacity:
                self._users.popitem(last=False)
        return user

    async def profile(self, user_id: str) -> dict[str, Any] | None:
        """The user as others see them, or None if there is no such user."""
        user = await self.user(user_id)
        return user.public() if user else None

    def renamed(self, user: User) -> None:
        """A rename was stored: later lookups see it."""
        self._renames += 1
        if self.enabled:
            self._users[user.id] = user
