"""Sessions as MongoDB documents, for PyMongo's async API and Motor alike.

The store is handed a collection; both drivers' collections offer the same
awaitable calls used here, so the code is one. A document:

    {_id: session id, data: {key: JSON text}, user_id: str?, deadline: date,
     expires_at: date}

Keys are escaped for field names (`%`, `.` and `$` become %25, %2E, %24);
values stay JSON text, so no value can be read as an operator and nothing
drifts through BSON types. A patch is one `find_one_and_update` on a live
document: one round trip, atomic on the document. The TTL index removes expired documents about
once a minute; reads check `expires_at` themselves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote

from pymongo import ReturnDocument
from pymongo.errors import ConnectionFailure, DuplicateKeyError, PyMongoError

from stores.base import USER_ID_KEY, EncodedChanges, SessionStore, StoredSession, user_id_of
from stores.errors import SessionGone, SessionStoreError, StoreUnavailable

UTC = dt.UTC


def escape_key(key: str) -> str:
    return key.replace("%", "%25").replace(".", "%2E").replace("$", "%24")


def _date(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, UTC)


def _epoch(value: dt.datetime) -> float:
    # Drivers return naive UTC datetimes unless the client was made tz_aware.
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


class MongoSessionStore(SessionStore):
    name = "mongodb"

    def __init__(self, collection: Any, *, idle_timeout: float, absolute_timeout: float) -> None:
        """`collection`: a PyMongo AsyncCollection or a Motor collection, its client
        configured with timeouts (serverSelectionTimeoutMS and friends)."""
        super().__init__(idle_timeout=idle_timeout, absolute_timeout=absolute_timeout)
        self.collection = collection

    async def prepare(self) -> None:
        """Create the indexes; idempotent, run at start-up."""
        with unavailable_on_network_errors():
            await self.collection.create_index("expires_at", expireAfterSeconds=0)
            await self.collection.create_index("user_id", sparse=True)

    async def _read(self, session_id: str) -> StoredSession | None:
        with unavailable_on_network_errors():
            doc = await self.collection.find_one({"_id": session_id})
        return None if doc is None else _stored(doc)

    async def _insert(self, stored: StoredSession) -> None:
        doc: dict[str, Any] = {
            "_id": stored.id,
            "data": {escape_key(k): v for k, v in stored.data.items()},
            "deadline": _date(stored.deadline),
            "expires_at": _date(stored.expires_at),
        }
        if stored.user_id is not None:
            doc["user_id"] = stored.user_id
        with unavailable_on_network_errors():
            try:
                await self.collection.insert_one(doc)
            except DuplicateKeyError:
                raise SessionStoreError(f"session id already exists: {stored.id!r}") from None

    async def _apply(self, session_id: str, changes: EncodedChanges, now: float) -> StoredSession:
        stamp: dict[str, Any] = {
            "expires_at": {"$min": [_date(now + self.idle_timeout), "$deadline"]}
        }
        removed = []
        for key, value in changes.items():
            field = escape_key(key)
            if value is None:
                removed.append(f"data.{field}")
            else:
                stamp[f"data.{field}"] = {"$literal": value}
        if USER_ID_KEY in changes:
            user_id = user_id_of(changes[USER_ID_KEY])
            if user_id is None:
                removed.append("user_id")
            else:
                stamp["user_id"] = {"$literal": user_id}
        pipeline: list[dict[str, Any]] = [{"$set": stamp}]
        if removed:
            pipeline.append({"$unset": removed})
        with unavailable_on_network_errors():
            doc = await self.collection.find_one_and_update(
                {"_id": session_id, "expires_at": {"$gt": _date(now)}},
                pipeline,
                return_document=ReturnDocument.AFTER,
            )
        if doc is None:
            raise SessionGone(session_id)
        return _stored(doc)

    async def _touch(self, session_id: str, now: float) -> float | None:
        with unavailable_on_network_errors():
            doc = await self.collection.find_one_and_update(
                {"_id": session_id, "expires_at": {"$gt": _date(now)}},
                [{"$set": {"expires_at": {"$min": [_date(now + self.idle_timeout), "$deadline"]}}}],
                projection={"expires_at": True},
                return_document=ReturnDocument.AFTER,
            )
        return None if doc is None else _epoch(doc["expires_at"])

    async def _delete(self, session_id: str) -> None:
        with unavailable_on_network_errors():
            await self.collection.delete_one({"_id": session_id})

    async def _indexed_ids(self, user_id: str) -> Iterable[str]:
        with unavailable_on_network_errors():
            cursor = self.collection.find({"user_id": user_id}, projection={"_id": True})
            return [doc["_id"] for doc in await cursor.to_list(None)]

    async def ping(self) -> None:
        with unavailable_on_network_errors():
            await self.collection.database.client.admin.command("ping")

    async def close(self) -> None:
        result = self.collection.database.client.close()
        if result is not None:  # PyMongo's async close() is a coroutine, Motor's is not
            await result


def _stored(doc: dict[str, Any]) -> StoredSession:
    return StoredSession(
        id=doc["_id"],
        data={unquote(k): v for k, v in doc.get("data", {}).items()},
        deadline=_epoch(doc["deadline"]),
        expires_at=_epoch(doc["expires_at"]),
    )


@contextmanager
def unavailable_on_network_errors() -> Iterator[None]:
    try:
        yield
    except PyMongoError as exc:
        if isinstance(exc, ConnectionFailure) or getattr(exc, "timeout", False):
            raise StoreUnavailable(f"MongoDB did not answer ({type(exc).__name__})") from exc
        raise
