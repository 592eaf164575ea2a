"""Password hashes: bcrypt over an HMAC-SHA256 pre-hash, so every character counts.

bcrypt reads at most 72 bytes (bcrypt 5 refuses more), which a 64-character
password of `é` exceeds. So a password is first condensed with HMAC-SHA256,
keyed with the bcrypt salt of its own hash (a leaked hash then gives no
unsalted SHA-256 to match elsewhere, as passlib's bcrypt_sha256 v2 does), and
base64-encoded (44 bytes, no NUL) before bcrypt:

    v2  "bcrypt-sha256$" + bcrypt(base64(HMAC-SHA256(key=salt, password)))
    v1  bcrypt(password), at most 72 bytes: hashes stored before this scheme

Both verify; a v1 hash is replaced by a v2 one at the next successful login.
bcrypt runs off the event loop, on threads that yield it the core (`Passwords`).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import bcrypt

from chatapp.errors import ApiError

T = TypeVar("T")

V2 = "bcrypt-sha256$"
#: bcrypt threads' niceness: CPU weight 110 against the IOLoop's 1024 (Linux CFS).
NICENESS = 10
_SALT_LENGTH = 29  # "$2b$12$" and 22 characters of salt, the start of a bcrypt hash


def _condensed(password: str, salt: bytes) -> bytes:
    digest = hmac.new(salt, password.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest)


class Passwords:
    """bcrypt at one cost, on threads that leave the IOLoop its core.

    asyncio's default executor runs up to (cores + 4) bcrypt calls at once, each
    a runnable thread as deserving of a core as the IOLoop's: 50 logins at
    once at cost 12 held every socket and request of the process for 0.7 s
    at a time (bench/compare.py, scenario logins). So bcrypt gets threads of
    its own, one per core the process may use, at a lower priority (nice 10,
    Linux's per-thread niceness): on a core the IOLoop wants, the scheduler
    gives bcrypt about a tenth of it, so requests and sockets keep moving and
    logins still finish; on an idle core bcrypt has it all. Work waiting for
    a thread is bounded (`max_waiting`): past it a login or sign-up is
    refused at once with 503 `busy` and Retry-After, instead of waiting.
    """

    def __init__(self, cost: int, *, max_waiting: int, threads: int | None = None) -> None:
        self.cost = cost
        self.max_waiting = max_waiting
        self.threads = threads or len(os.sched_getaffinity(0))
        self._executor = ThreadPoolExecutor(
            self.threads, thread_name_prefix="bcrypt", initializer=_lowest_priority
        )
        self._waiting = 0

    async def hash(self, password: str) -> str:
        salt = bcrypt.gensalt(self.cost)
        hashed: bytes = await self._run(bcrypt.hashpw, _condensed(password, salt), salt)
        return V2 + hashed.decode()

    async def check(self, password: str, stored: str) -> bool:
        """True if `password` is the one `stored` was made from (either version); a
        stored value that is no bcrypt hash at all matches nothing."""
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

    def unmatchable(self) -> str:
        """A well-formed hash at this cost that no password matches: checking a login
        of an unknown user against it costs one bcrypt check, as a wrong password does."""
        return V2 + (bcrypt.gensalt(self.cost) + b"." * 31).decode()

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def _run(self, work: Callable[..., T], *args: bytes) -> T:
        if self._waiting >= self.max_waiting + self.threads:
            raise ApiError(
                503, "busy", "too many logins at once; try again in a second", {"Retry-After": "1"}
            )
        self._waiting += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, work, *args)
        finally:
            self._waiting -= 1


def _lowest_priority() -> None:
    with contextlib.suppress(OSError, AttributeError):  # Linux sets it per thread
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICENESS)


def is_current(stored: str) -> bool:
    return stored.startswith(V2)
