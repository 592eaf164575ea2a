"""Sign-up and login: bcrypt in an executor, the same answer and time for every failure.

Every outcome is one line of the `chatapp.auth` log (user id or the username
tried, and the address), never a password or a session id: what an operator
needs to see a guessing attack or answer "was that me?".
"""

from __future__ import annotations

from chatapp.accounts.passwords import Passwords
from chatapp.accounts.throttle import LoginThrottle, MemoryThrottle
from chatapp.accounts.user_cache import UserCache
from chatapp.errors import ApiError
from chatapp.sessions.session import auth_log
from chatapp.social.base import Database, UsernameTaken
from chatapp.social.models import User


class Accounts:
    def __init__(
        self,
        db: Database,
        *,
        passwords: Passwords,
        users: UserCache | None = None,
        throttle: LoginThrottle | None = None,
    ) -> None:
        self.db = db
        self.users = users if users is not None else UserCache(db, enabled=False)
        self.passwords = passwords
        self.throttle = throttle if throttle is not None else MemoryThrottle()
        self._unknown_user_hash = passwords.unmatchable()

    async def user(self, user_id: str | None) -> User | None:
        """The user a session names (by id), as the data layer has them now."""
        return await self.users.user(user_id) if user_id is not None else None

    async def sign_up(self, username: str, password: str, display_name: str, address: str) -> User:
        """A new user (already validated input); 409 if the username is taken."""
        hashed = await self.passwords.hash(password)
        try:
            user = await self.db.create_user(username, display_name, hashed)
        except UsernameTaken:
            raise ApiError(409, "username_taken", "that username is taken") from None
        auth_log.info("sign-up: user %s (%r) from %s", user.id, username, address)
        return user

    async def log_in(self, username: str, password: str, address: str) -> User:
        """The user, or 401 bad_credentials alike for an unknown user and a wrong password.

        A throttled attempt is refused (429) before anything else, its password
        unchecked, right or wrong. Otherwise both failures cost one bcrypt
        check (an unmatchable hash for an unknown user), so their timing does
        not tell which; a success clears the count, and replaces a hash of the
        old scheme (chatapp.accounts.passwords) with one of the current.
        """
        user = await self._verified(username, password, address)
        auth_log.info("login: user %s (%r) from %s", user.id, username, address)
        return user

    async def change_password(self, user: User, current: str, new: str, address: str) -> None:
        """Check `current` as a login would (throttled alike), then store `new` (already checked).

        A wrong current password is 401 bad_credentials and counts as a failed login.
        """
        await self._verified(user.username, current, address, wrong="current password is wrong")
        await self.db.set_password_hash(user.id, await self.passwords.hash(new))
        auth_log.info("password changed: user %s from %s", user.id, address)

    async def _verified(
        self,
        username: str,
        password: str,
        address: str,
        *,
        wrong: str = "wrong username or password",
    ) -> User:
        wait = await self.throttle.retry_after(username, address)
        if wait:
            auth_log.warning("login throttled: %r from %s for %d s", username, address, wait)
            raise ThrottledLogin(wait)
        account = await self.db.account(username)
        stored = account.password_hash if account else self._unknown_user_hash
        if await self.passwords.check(password, stored) and account is not None:
            await self.throttle.succeeded(username, address)
            if self.passwords.needs_rehash(stored):
                hashed = await self.passwords.hash(password)
                await self.db.set_password_hash(account.user.id, hashed)
            return account.user
        await self.throttle.failed(username, address)
        known = "wrong password" if account else "unknown user"
        auth_log.info("login failed (%s): %r from %s", known, username, address)
        raise ApiError(401, "bad_credentials", wrong)


class ThrottledLogin(ApiError):
    def __init__(self, retry_after: int) -> None:
        super().__init__(
            429,
            "throttled",
            f"too many failed logins; retry in {retry_after} s",
            {"Retry-After": str(retry_after)},
        )
