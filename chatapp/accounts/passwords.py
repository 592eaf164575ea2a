"""Password hashes: bcrypt over an HMAC-SHA256 pre-hash, so every character counts.

bcrypt reads at most 72 bytes (bcrypt 5 refuses more), which a 64-character
password of `é` exceeds. So a password is first condensed with HMAC-SHA256,
keyed with the bcrypt salt of its own hash (a leaked hash then gives no
unsalted SHA-256 to match elsewhere, as passlib's bcrypt_sha256 v2 does), and
base64-encoded (44 bytes, no NUL) before bcrypt:

    v2  "bcrypt-sha256$" + bcrypt(base64(HMAC-SHA256(key=salt, password)))
    v1  bcrypt(password), at most 72 bytes: hashes stored before this scheme

Both verify; a v1 hash is replaced by a v2 one at the next successful login.
bcrypt runs in an executor, off the event loop.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac

import bcrypt

V2 = "bcrypt-sha256$"
_SALT_LENGTH = 29  # "$2b$12$" and 22 characters of salt, the start of a bcrypt hash


def _condensed(password: str, salt: bytes) -> bytes:
    digest = hmac.new(salt, password.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest)


async def hash_password(password: str, cost: int) -> str:
    salt = bcrypt.gensalt(cost)
    hashed = await asyncio.get_running_loop().run_in_executor(
        None, bcrypt.hashpw, _condensed(password, salt), salt
    )
    return V2 + hashed.decode()


async def check_password(password: str, stored: str) -> bool:
    """True if `password` is the one `stored` was made from (either version); a stored
    value that is no bcrypt hash at all matches nothing."""
    if stored.startswith(V2):
        hashed = stored.removeprefix(V2).encode()
        candidate = _condensed(password, hashed[:_SALT_LENGTH])
    else:
        hashed, candidate = stored.encode(), password.encode()
        if len(candidate) > 72:  # a v1 hash was never made from a longer one
            return False
    return await asyncio.get_running_loop().run_in_executor(None, bcrypt.checkpw, candidate, hashed)


def is_current(stored: str) -> bool:
    return stored.startswith(V2)
