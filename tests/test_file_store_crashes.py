"""The file store when its process dies mid-write, and when its disk refuses a write.

Real processes (tests/file_writers.py), killed with SIGKILL at random
moments, and real refusals from the kernel: a file-size limit (EFBIG, as a
full disk's ENOSPC) and a directory the writer may not write to (EACCES).
"""

from __future__ import annotations

import asyncio
import random
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from stores.file import FileSessionStore
from tests.file_writers import store as file_store

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
KILLS = 20
SESSIONS = 10


def child(*args: str, preexec: Callable[[], None] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.file_writers", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=preexec,
    )


async def first_line(process: subprocess.Popen[str], limit: float = 15) -> str:
    assert process.stdout is not None
    return (await asyncio.wait_for(asyncio.to_thread(process.stdout.readline), limit)).strip()


async def test_sigkill_mid_write_leaves_whole_unmixed_sessions_and_reaped_temps(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = file_store(str(tmp_path))
    ids = [secrets.token_urlsafe(32) for _ in range(SESSIONS)]
    for owner, sid in enumerate(ids):
        await store.create(sid, {"k0": {"owner": owner}})
    rng = random.Random(20261130)
    for _ in range(KILLS):
        writers = child("hammer", str(tmp_path), *ids)
        try:
            assert await first_line(writers) == "ready"
            await asyncio.sleep(rng.uniform(0.05, 0.5))
        finally:
            writers.send_signal(signal.SIGKILL)
            writers.wait(timeout=10)
        for owner, sid in enumerate(ids):
            record = await store.load(sid)
            assert record is not None, f"session {owner} lost"
            owners = {value["owner"] for key, value in record.data.items() if key != "user_id"}
            assert owners == {owner}, f"session {owner} holds {owners}"
            if record.user_id is not None:  # a login "log out everywhere" would miss
                assert sid in await store.session_ids_of(record.user_id)
    assert not [r for r in caplog.records if "corrupt session file" in r.getMessage()]
    files = [path.name for path in tmp_path.iterdir()]
    assert sorted(name for name in files if name.endswith(".session")) == sorted(
        path.name for path in tmp_path.glob("*.session")
    )
    assert len([name for name in files if name.endswith(".session")]) == SESSIONS
    store.clock = lambda: time.time() + 61  # temp files left by the kills are now stale
    await store.sweep()
    assert not list(tmp_path.glob(".tmp-*"))
    assert len(list(tmp_path.glob("*.session"))) == SESSIONS
    await store.close()


def file_size_limit(size: int) -> Callable[[], None]:
    def limit() -> None:  # the kernel then refuses a larger file with EFBIG, as a full disk
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    return limit


@pytest.mark.parametrize("fault", ["full", "read-only"])
async def test_a_refused_write_is_unavailable_and_keeps_the_old_session(
    tmp_path_factory: pytest.TempPathFactory, fault: str
) -> None:
    # Under /tmp itself, so that the read-only case's writer (nobody) can reach it.
    directory = Path(tempfile.mkdtemp(prefix="chatapp-sessions-"))
    store: FileSessionStore = file_store(str(directory))
    sid = secrets.token_urlsafe(32)
    await store.create(sid, {"theme": "dark"})
    args, preexec = ["write", str(directory), sid, "100000"], None
    if fault == "full":
        preexec = file_size_limit(4096)
    else:
        for path in directory.rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)
        directory.chmod(0o555)
        args.append("nobody")
    try:
        writer = child(*args, preexec=preexec)
        outcome = await first_line(writer)
        writer.wait(timeout=10)
        assert outcome.startswith("unavailable: session directory"), outcome
        record = await store.load(sid)
        assert record is not None and record.data == {"theme": "dark"}
        assert not list(directory.glob(".tmp-*"))
    finally:
        await store.close()
        directory.chmod(0o700)
        shutil.rmtree(directory)
