"""Orders that every process must carry out on its own sockets.

python-socketio's message queue carries emits to every process, but nothing
that disconnects all the sockets of a room there. Ending a session must
reach every socket of it, in every process, so chatapp sends that order on
a channel of its own: in one process the order is carried out directly; with
a message queue it is published on Redis, and each process (this one too)
carries it out for the sockets it holds.
"""

from __future__ import annotations

import abc
import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from chatapp.backends import redis_errors
from chatapp.logs import request_id

log = logging.getLogger(__name__)

Order = dict[str, Any]
OrderHandler = Callable[[Order], Awaitable[None]]


class Control(abc.ABC):
    @abc.abstractmethod
    async def publish(self, order: Order) -> None:
        """Have every process's handler carry out this order."""

    async def start(self, handler: OrderHandler) -> None:
        self.handler = handler

    async def stop(self) -> None:
        pass


class LocalControl(Control):
    async def publish(self, order: Order) -> None:
        await self.handler(order)


class RedisControl(Control):
    def __init__(self, client: aioredis.Redis, channel: str = "chatapp:control") -> None:
        self.client = client
        self.channel = channel
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    async def publish(self, order: Order) -> None:
        """Sent with the request id of the work that gave it: the processes that carry it
        out log under that id (chatapp.logs)."""
        with redis_errors("control channel"):
            await self.client.publish(
                self.channel, json.dumps({**order, "request_id": request_id.get()})
            )

    async def start(self, handler: OrderHandler) -> None:
        await super().start(handler)
        self._task = asyncio.create_task(self._listen())
        with redis_errors("control channel"):
            await asyncio.wait_for(self._subscribed.wait(), timeout=10)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _listen(self) -> None:
        while True:
            try:
                async with self.client.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(self.channel)
                    self._subscribed.set()
                    while True:
                        message = await pubsub.get_message(timeout=1.0)
                        if message is not None:
                            await self._carry_out(message["data"])
            except (RedisError, OSError) as exc:
                log.warning("control channel lost (%s); reconnecting", exc)
                await asyncio.sleep(1)

    async def _carry_out(self, data: str | bytes) -> None:
        try:
            order = json.loads(data)
            request_id.set(str(order.pop("request_id", "-")))
            await self.handler(order)
        except Exception:
            log.exception("carrying out a control order failed")
