"""Password hashes: argon2id for new ones (argon2-cffi), bcrypt ones still verified.

New hashes are argon2id through argon2-cffi's `PasswordHasher` (the PHC
string carries its parameters and salt; no length limit, every character
counts). Hashes stored before it still verify and are replaced at the next
successful login, as is an argon2id hash made with other parameters:

    argon2  "$argon2id$v=19$m=...,t=...,p=...$salt$hash"
    v2      "bcrypt-sha256$" + bcrypt(base64(HMAC-SHA256(key=salt, password)))
    v1      bcrypt(password), at most 72 bytes

(v2 condensed a password with HMAC-SHA256 keyed by its own bcrypt salt, since
bcrypt reads at most 72 bytes.) `[accounts] password_hash = bcrypt` keeps
making v2 hashes, at `bcrypt_cost`. Hashing runs off the event loop, on
threads that yield it the core (`Passwords`).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import os
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal, TypeVar

import argon2
import bcrypt

from chatapp.errors import ApiError
from chatapp.settings import AccountsSettings

T = TypeVar("T")

ARGON2 = "$argon2id$"
V2 = "bcrypt-sha256$"
#: Hashing threads' niceness: CPU weight 110 against the IOLoop's 1024 (Linux CFS).
NICENESS = 10
_SALT_LENGTH = 29  # "$2b$12$" and 22 characters of salt, the start of a bcrypt hash

Scheme = Literal["argon2id", "bcrypt"]


def _condensed(password: str, salt: bytes) -> bytes:
    digest = hmac.new(salt, password.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest)


class Passwords:
    """Hashing at one setting, on threads that leave the IOLoop its core.

    asyncio's default executor runs up to (cores + 4) hashes at once, each a
    runnable thread as deserving of a core as the IOLoop's: 50 logins at once
    (bcrypt, cost 12) held every socket and request of the process for 0.7 s
    at a time (bench/compare.py, scenario logins). So hashing gets threads of
    its own, one per core the process may use, at a lower priority (nice 10,
    Linux's per-thread niceness): on a core the IOLoop wants, the scheduler
    gives them about a tenth of it, so requests and sockets keep moving and
    logins still finish; on an idle core they have it all. Work waiting for a
    thread is bounded (`max_waiting`): past it a login or sign-up is refused
    at once with 503 `busy` and Retry-After, instead of waiting.
    """

    def __init__(
        self,
        scheme: Scheme = "argon2id",
        *,
        argon2_hasher: argon2.PasswordHasher | None = None,
        bcrypt_cost: int = 12,
        max_waiting: int,
        threads: int | None = None,
    ) -> None:
        self.scheme = scheme
        self.argon2 = argon2_hasher or argon2.PasswordHasher()
        self.bcrypt_cost = bcrypt_cost
        self.max_waiting = max_waiting
        self.threads = threads or len(os.sched_getaffinity(0))
        self._executor = ThreadPoolExecutor(
            self.threads, thread_name_prefix="hashing", initializer=_lowest_priority
        )
        self._waiting = 0

    async def hash(self, password: str) -> str:
        if self.scheme == "argon2id":
            return await self._run(self.argon2.hash, password)
        salt = bcrypt.gensalt(self.bcrypt_cost)
        hashed: bytes = await self._run(bcrypt.hashpw, _condensed(password, salt), salt)
        return V2 + hashed.decode()

    async def check(self, password: str, stored: str) -> bool:
        """True if `password` is the one `stored` was made from (any of the three kinds);
        a stored value that is no hash at all matches nothing."""
        if stored.startswith("$argon2"):
            try:
                return await self._run(self.argon2.verify, stored, password)
            except argon2.exceptions.VerificationError:  # a mismatch
                return False
            except argon2.exceptions.InvalidHashError:
                return False
        if stored.startswith(V2):
            hashed = stored.removeprefix(V2).encode()
            candidate = _condensed(password, hashed[:_SALT_LENGTH])
        else:
            hashed, candidate = stored.encode(), password.encode()
            if len(candidate) > 72:  # a v1 hash was never made from a longer one
                return False
        try:
            matches: bool = await self._run(bcrypt.checkpw, candidate, hashed)
        except ValueError:  # bcrypt: "Invalid salt", the stored value is no hash
            return False
        return matches

    def needs_rehash(self, stored: str) -> bool:
        """A hash of another kind or setting than new ones get: replaced at the next login."""
        if self.scheme == "bcrypt":
            return not stored.startswith(f"{V2}$2b${self.bcrypt_cost:02d}$")
        return not stored.startswith(ARGON2) or self.argon2.check_needs_rehash(stored)

    def unmatchable(self) -> str:
        """A hash at this setting that no password matches: checking a login of an unknown
        user against it costs what checking a wrong password does. Made at start-up."""
        if self.scheme == "bcrypt":
            return V2 + (bcrypt.gensalt(self.bcrypt_cost) + b"." * 31).decode()
        return self.argon2.hash(secrets.token_urlsafe(32))

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def _run(self, work: Callable[..., T], *args: Any) -> T:
        if self._waiting >= self.max_waiting + self.threads:
            raise ApiError(
                503, "busy", "too many logins at once; try again in a second", {"Retry-After": "1"}
            )
        self._waiting += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, work, *args)
        finally:
            self._waiting -= 1


def build_passwords(config: AccountsSettings) -> Passwords:
    """The hashing `[accounts]` asks for (argon2id one lane: the threads are ours)."""
    hasher = argon2.PasswordHasher(
        time_cost=config.argon2_time_cost, memory_cost=config.argon2_memory_kib, parallelism=1
    )
    return Passwords(
        config.password_hash,
        argon2_hasher=hasher,
        bcrypt_cost=config.bcrypt_cost,
        max_waiting=config.max_waiting_hashes,
    )


def _lowest_priority() -> None:
    with contextlib.suppress(OSError, AttributeError):  # Linux sets it per thread
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICENESS)
