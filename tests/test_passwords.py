"""Password hashing off the IOLoop (chatapp.accounts.passwords): argon2id for new hashes,
the bcrypt kinds still verify and are replaced, the threads yield the core to the loop,
and work past the queue's bound is refused at once."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import AsyncIterator

import argon2
import bcrypt
import pytest

from chatapp.accounts.passwords import ARGON2, NICENESS, V2, Passwords, build_passwords
from chatapp.errors import ApiError
from chatapp.settings import AccountsSettings

FAST = argon2.PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)


@pytest.fixture
async def passwords() -> AsyncIterator[Passwords]:
    hasher = Passwords(argon2_hasher=FAST, bcrypt_cost=4, max_waiting=8, threads=2)
    yield hasher
    hasher.close()


async def test_new_hashes_are_argon2id_and_every_character_counts(passwords: Passwords) -> None:
    long = "é" * 64  # 128 bytes of UTF-8: bcrypt alone would read 72
    stored = await passwords.hash(long)
    assert stored.startswith(ARGON2) and "m=64,t=1,p=1" in stored
    assert await passwords.check(long, stored)
    assert not await passwords.check(long[:36], stored)
    assert not await passwords.check("anything", "not a hash at all")
    assert not await passwords.check("anything", "$argon2id$v=19$m=64,t=1,p=1$broken")
    assert not passwords.needs_rehash(stored)
    unknown = passwords.unmatchable()  # what an unknown user's login is checked against
    assert unknown.startswith(ARGON2) and not await passwords.check("", unknown)


async def test_bcrypt_hashes_still_verify_and_are_due_for_replacement(
    passwords: Passwords,
) -> None:
    legacy = bcrypt.hashpw(b"old password", bcrypt.gensalt(4)).decode()  # v1
    assert await passwords.check("old password", legacy)
    assert not await passwords.check("x" * 100, legacy)
    as_bcrypt = Passwords("bcrypt", bcrypt_cost=4, max_waiting=8, threads=1)
    try:
        v2 = await as_bcrypt.hash("é" * 64)
        assert v2.startswith(V2) and not as_bcrypt.needs_rehash(v2)
        assert as_bcrypt.needs_rehash(legacy) and as_bcrypt.needs_rehash(await passwords.hash("p"))
    finally:
        as_bcrypt.close()
    assert await passwords.check("é" * 64, v2) and not await passwords.check("é" * 63, v2)
    for stored in (legacy, v2):
        assert passwords.needs_rehash(stored)
    stronger = argon2.PasswordHasher(time_cost=2, memory_cost=64, parallelism=1)
    assert passwords.needs_rehash(stronger.hash("p"))  # other parameters: replaced too


def test_settings_choose_the_kind_and_its_parameters() -> None:
    made = build_passwords(
        AccountsSettings(argon2_time_cost=1, argon2_memory_kib=32, max_waiting_hashes=3)
    )
    try:
        assert made.scheme == "argon2id" and made.max_waiting == 3
        assert "m=32,t=1,p=1" in made.unmatchable()
        assert build_passwords(AccountsSettings(password_hash="bcrypt")).scheme == "bcrypt"
    finally:
        made.close()


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="Linux only")
async def test_hashing_threads_run_at_a_lower_priority_than_the_loop(
    passwords: Passwords,
) -> None:
    await asyncio.gather(*(passwords.hash("warm every thread") for _ in range(4)))
    workers = [t for t in threading.enumerate() if t.name.startswith("hashing")]
    assert workers
    for worker in workers:
        assert worker.native_id is not None
        assert os.getpriority(os.PRIO_PROCESS, worker.native_id) == NICENESS
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == 0  # the loop's


async def test_work_past_the_bound_is_refused_at_once_with_503_busy() -> None:
    hasher = Passwords("bcrypt", bcrypt_cost=10, max_waiting=1, threads=1)
    try:
        running = asyncio.ensure_future(hasher.hash("one"))  # on the thread
        waiting = asyncio.ensure_future(hasher.hash("two"))  # its one place in the queue
        await asyncio.sleep(0)
        with pytest.raises(ApiError) as refused:
            await hasher.check("three", "$2b$10$" + "x" * 53)
        answer = refused.value.answer
        assert (answer.status, answer.code, answer.headers) == (503, "busy", {"Retry-After": "1"})
        await asyncio.gather(running, waiting)  # the admitted ones finish
        assert await hasher.check("one", await hasher.hash("one"))  # and room is made again
    finally:
        hasher.close()
