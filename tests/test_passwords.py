"""bcrypt off the IOLoop (chatapp.accounts.passwords): both hash versions verify, the
threads yield the core to the loop, and work past the queue's bound is refused at once."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import AsyncIterator

import bcrypt
import pytest

from chatapp.accounts.passwords import NICENESS, V2, Passwords
from chatapp.errors import ApiError


@pytest.fixture
async def passwords() -> AsyncIterator[Passwords]:
    hasher = Passwords(4, max_waiting=8, threads=2)
    yield hasher
    hasher.close()


async def test_every_character_counts_and_old_hashes_verify(passwords: Passwords) -> None:
    long = "é" * 64  # 128 bytes of UTF-8: bcrypt alone would read 72
    stored = await passwords.hash(long)
    assert stored.startswith(V2)
    assert await passwords.check(long, stored)
    assert not await passwords.check(long[:36], stored)  # its 72-byte prefix
    legacy = bcrypt.hashpw(b"old password", bcrypt.gensalt(4)).decode()
    assert await passwords.check("old password", legacy)
    assert not await passwords.check("x" * 100, legacy)
    assert not await passwords.check("anything", "not a bcrypt hash at all")


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="Linux only")
async def test_bcrypt_threads_run_at_a_lower_priority_than_the_loop(passwords: Passwords) -> None:
    await asyncio.gather(*(passwords.hash("warm every thread") for _ in range(4)))
    workers = [t for t in threading.enumerate() if t.name.startswith("bcrypt")]
    assert workers
    for worker in workers:
        assert worker.native_id is not None
        assert os.getpriority(os.PRIO_PROCESS, worker.native_id) == NICENESS
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == 0  # the loop's


async def test_work_past_the_bound_is_refused_at_once_with_503_busy() -> None:
    hasher = Passwords(10, max_waiting=1, threads=1)
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
