"""Sign-up and login: bcrypt in an executor, the same answer and time for every failure."""

from __future__ import annotations

import asyncio

import bcrypt

from chatapp.accounts.throttle import LoginThrottle, MemoryThrottle
from chatapp.errors import ApiError
from chatapp.social.base import Database, UsernameTaken
from chatapp.social.models import User


class Accounts:
    def __init__(
        self, db: Database, *, bcrypt_cost: int, throttle: LoginThrottle | None = None
    ) -> None:
        self.db = db
        self.bcrypt_cost = bcrypt_cost
        self.throttle = throttle if throttle is not None else MemoryThrottle()
        self._dummy_hash: bytes | None = None

    async def user(self, user_id: str | None) -> User | None:
        """The user a session names (by id), as the data layer has them now."""
        return await self.db.user(user_id) if user_id is not None else None

    async def sign_up(self, username: str, password: str, display_name: str) -> User:
        """A new user (already validated input); 409 if the username is taken."""
        hashed = await self._hash(password)
        try:
            return await self.db.create_user(username, display_name, hashed.decode())
        except UsernameTaken:
            raise ApiError(409, "username_taken", "that username is taken") from None

    async def log_in(self, username: str, password: str, address: str) -> User:
        """The user, or 401 bad_credentials alike for an unknown user and a wrong password.

        A throttled attempt is refused (429) before anything else, its password
        unchecked, right or wrong. Otherwise both failures cost one bcrypt
        check (a dummy hash for an unknown user), so their timing does not
        tell which; a success clears the count.
        """
        wait = await self.throttle.retry_after(username, address)
        if wait:
            raise ThrottledLogin(wait)
        account = await self.db.account(username)
        stored = account.password_hash.encode() if account else await self._dummy()
        if await self._check(password, stored) and account is not None:
            await self.throttle.succeeded(username, address)
            return account.user
        await self.throttle.failed(username, address)
        raise ApiError(401, "bad_credentials", "wrong username or password")

    async def change_password(self, user: User, current: str, new: str, address: str) -> None:
        """Check `current` as a login would (throttled alike), then store `new` (already checked).

        A wrong current password is 401 bad_credentials and counts as a failed login.
        """
        await self.log_in(user.username, current, address)
        hashed = await self._hash(new)
        await self.db.set_password_hash(user.id, hashed.decode())

    async def _hash(self, password: str) -> bytes:
        salt = bcrypt.gensalt(self.bcrypt_cost)
        return await asyncio.get_running_loop().run_in_executor(
            None, bcrypt.hashpw, password.encode(), salt
        )

    async def _check(self, password: str, hashed: bytes) -> bool:
        candidate = password.encode()
        if len(candidate) > 72:  # bcrypt 5 raises on longer input; no such password exists
            return False
        return await asyncio.get_running_loop().run_in_executor(
            None, bcrypt.checkpw, candidate, hashed
        )

    async def _dummy(self) -> bytes:
        if self._dummy_hash is None:
            self._dummy_hash = await self._hash("dummy password for timing")
        return self._dummy_hash


class ThrottledLogin(ApiError):
    def __init__(self, retry_after: int) -> None:
        super().__init__(
            429,
            "throttled",
            f"too many failed logins; retry in {retry_after} s",
            {"Retry-After": str(retry_after)},
        )
