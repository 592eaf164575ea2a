"""One file per session, safe across processes that share the directory.

Layout under the directory:

    <sha256(id)>.session           JSON: id, data, deadline
    .locks/<2 hex digits>          256 lock stripes, fcntl.flock'ed, never deleted
    .users/<sha256(user)>/<sha256(id)>   the user index: one marker file per session

Why so:
- The file name is a hash of the id, so no cookie can name a path:
  "../../etc/passwd" is just an id whose file does not exist.
- A session's idle expiry is the file's mtime, so `touch` is one utime() and
  never rewrites data, and the reaper finds expired files by stat alone.
- Writes go to a temp file, are fsync'ed and then os.replace'd: a reader sees
  the old file or the new one, never a torn one; a write that fails (a full
  disk) leaves the old one. A login is indexed before its file is written
  and unindexed after, so a crash in between leaves a stale index entry
  (listing checks the data), never a login that "log out everywhere" misses.
- A patch (read the file, change it, write it) holds the session's lock
  stripe: an asyncio.Lock for this process, then flock() for other
  processes. Stripes, not one lock file per
  session, because deleting a lock file that another process has open breaks
  mutual exclusion.
- All file work runs in a small thread pool of the store's own, off the IOLoop.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from stores.base import EncodedChanges, SessionStore, StoredSession
from stores.errors import SessionGone, SessionStoreError, StoreUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")
_SUFFIX = ".session"
_STRIPES = 256


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class FileSessionStore(SessionStore):
    name = "file"

    def __init__(
        self, directory: str | os.PathLike[str], *, idle_timeout: float, absolute_timeout: float
    ) -> None:
        super().__init__(idle_timeout=idle_timeout, absolute_timeout=absolute_timeout)
        self.directory = Path(directory)
        self._locks_dir = self.directory / ".locks"
        self._users_dir = self.directory / ".users"
        for folder in (self.directory, self._locks_dir, self._users_dir):
            private_directory(folder)
        self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="file-sessions")
        self._stripe_locks = [asyncio.Lock() for _ in range(_STRIPES)]

    # -- primitives ---------------------------------------------------------------

    async def _read(self, session_id: str) -> StoredSession | None:
        return await self._run(self._read_file, self._path(session_id))

    async def _insert(self, stored: StoredSession) -> None:
        def insert() -> None:
            path = self._path(stored.id)
            if path.exists():
                raise SessionStoreError(f"session id already exists: {stored.id!r}")
            self._index(stored)
            self._write_file(path, stored)

        await self._locked(stored.id, insert)

    async def _apply(self, session_id: str, changes: EncodedChanges, now: float) -> StoredSession:
        def apply() -> StoredSession:
            path = self._path(session_id)
            stored = self._read_file(path)
            if stored is None or stored.expires_at <= now:
                raise SessionGone(session_id)
            old_user = stored.user_id
            self._apply_in_place(stored, changes, now)
            if stored.user_id != old_user:
                self._index(stored)
            self._write_file(path, stored)
            if stored.user_id != old_user:
                self._unindex(session_id, old_user)
            return stored

        return await self._locked(session_id, apply)

    async def _touch(self, session_id: str, now: float) -> float | None:
        def touch() -> float | None:
            path = self._path(session_id)
            stored = self._read_file(path)
            if stored is None or stored.expires_at <= now:
                return None
            expires_at = self._expiry_from(now, stored.deadline)
            os.utime(path, (now, expires_at))
            return expires_at

        return await self._locked(session_id, touch)

    async def _delete(self, session_id: str) -> None:
        await self._locked(session_id, lambda: self._remove(session_id))

    async def _indexed_ids(self, user_id: str) -> Iterable[str]:
        def listing() -> list[str]:
            folder = self._users_dir / _digest(user_id)
            ids = []
            for marker in _entries(folder):
                try:
                    ids.append(marker.read_text())
                except OSError:
                    continue  # removed meanwhile
            return ids

        return await self._run(listing)

    async def sweep(self) -> int:
        """Remove expired session files, their index markers and stale temp files."""
        now = self.clock()

        def expired_ids() -> list[str]:
            found = []
            for path in _entries(self.directory):
                try:
                    status = path.stat()
                except OSError:
                    continue
                # A temp file's mtime may already be its session's expiry; its ctime is
                # when it was last written, which utime() cannot set.
                if path.name.startswith(".tmp-") and status.st_ctime < now - 60:
                    path.unlink(missing_ok=True)
                elif path.suffix == _SUFFIX and status.st_mtime <= now:
                    stored = self._read_file(path)
                    found.append(stored.id if stored else path.stem)
            return found

        removed = 0
        for session_id in await self._run(expired_ids):
            removed += await self._locked(
                session_id, partial(self._remove_if_expired, session_id, now)
            )
        return removed

    async def ping(self) -> None:
        def check() -> None:
            if not os.access(self.directory, os.W_OK | os.X_OK):
                raise StoreUnavailable(f"session directory {self.directory} is not writable")

        await self._run(check)

    async def close(self) -> None:
        self._executor.shutdown(wait=True)

    # -- blocking helpers, run in the executor ----------------------------------------

    def _path(self, session_id: str) -> Path:
        return self.directory / (_digest(session_id) + _SUFFIX)

    def _read_file(self, path: Path) -> StoredSession | None:
        try:
            with open(path, "rb") as handle:
                expires_at = os.fstat(handle.fileno()).st_mtime
                doc = json.load(handle)
            return StoredSession(
                id=_str(doc["id"]),
                data={_str(k): _str(v) for k, v in doc["data"].items()},
                deadline=float(doc["deadline"]),
                expires_at=expires_at,
            )
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
            log.warning("corrupt session file %s treated as absent: %s", path.name, exc)
            return None

    def _write_file(self, path: Path, stored: StoredSession) -> None:
        doc = {
            "id": stored.id,
            "data": stored.data,
            "deadline": stored.deadline,
        }
        temp = self.directory / f".tmp-{os.getpid()}-{_digest(stored.id)[:16]}"
        try:
            with open(temp, "w", encoding="utf-8", opener=_private) as handle:
                json.dump(doc, handle, separators=(",", ":"))
                handle.flush()
                os.fsync(handle.fileno())
            os.utime(temp, (self.clock(), stored.expires_at))
            os.replace(temp, path)
        except BaseException:  # a full disk, say: the old file stays as it was
            with suppress(OSError):
                temp.unlink()
            raise

    def _remove(self, session_id: str) -> None:
        path = self._path(session_id)
        stored = self._read_file(path)
        path.unlink(missing_ok=True)
        if stored is not None:
            self._unindex(session_id, stored.user_id)

    def _remove_if_expired(self, session_id: str, now: float) -> int:
        path = self._path(session_id)
        try:
            if path.stat().st_mtime > now:
                return 0  # touched since the scan
        except FileNotFoundError:
            return 0
        self._remove(session_id)
        return 1

    def _index(self, stored: StoredSession) -> None:
        user_id = stored.user_id
        if user_id is None:
            return
        folder = self._users_dir / _digest(user_id)
        for _ in range(5):  # another process may rmdir the folder between mkdir and write
            folder.mkdir(mode=0o700, exist_ok=True)
            try:
                (folder / _digest(stored.id)).write_text(stored.id)
                return
            except FileNotFoundError:
                continue
        raise StoreUnavailable(f"could not index session in {folder}")

    def _unindex(self, session_id: str, user_id: str | None) -> None:
        if user_id is None:
            return
        folder = self._users_dir / _digest(user_id)
        (folder / _digest(session_id)).unlink(missing_ok=True)
        with suppress(OSError):  # not empty: another session of the user is indexed
            folder.rmdir()

    # -- locking and threads ---------------------------------------------------------

    async def _run(self, func: Callable[..., T], *args: Any) -> T:
        """`func` on the store's threads; a failing file system (full, read-only, gone)
        is StoreUnavailable, a 503, like a backing server that is down."""
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, func, *args)
        except OSError as exc:
            problem = exc.strerror or type(exc).__name__
            raise StoreUnavailable(f"session directory {self.directory}: {problem}") from exc

    async def _locked(self, session_id: str, func: Callable[[], T]) -> T:
        stripe = int(_digest(session_id)[:2], 16)

        def locked() -> T:
            with self._flock(stripe):
                return func()

        async with self._stripe_locks[stripe]:
            return await self._run(locked)

    @contextmanager
    def _flock(self, stripe: int) -> Iterator[None]:
        fd = os.open(self._locks_dir / f"{stripe:02x}", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock


def _entries(folder: Path) -> list[Path]:
    try:
        return list(folder.iterdir())
    except FileNotFoundError:
        return []


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, found {type(value).__name__}")
    return value


def _private(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)


def private_directory(path: Path) -> None:
    """Create `path` and any missing parent readable by the owner only (0700).

    `Path.mkdir(mode=..., parents=True)` gives the mode to the last folder
    only; its parents (say `var/`) would be world-readable. Existing folders
    are left as they are.
    """
    missing = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)
