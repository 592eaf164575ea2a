"""How late the IOLoop wakes a task that sleeps a fixed interval: the benchmark's
measure of how long one piece of work keeps every other request and socket waiting.

Off unless `[bench] loop_lag` is on (then GET /bench/loop-lag hands over the
samples taken since the last call); bench/compare.py reads it under each load.
"""

from __future__ import annotations

import asyncio
from collections import deque

#: Samples kept between two reads: 10 minutes at the default interval.
MAX_SAMPLES = 60_000


class LoopLag:
    def __init__(self, interval: float = 0.01) -> None:
        self.interval = interval
        self._samples: deque[float] = deque(maxlen=MAX_SAMPLES)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._beat())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def take(self) -> list[float]:
        """The lags in milliseconds measured since the last call."""
        samples = list(self._samples)
        self._samples.clear()
        return samples

    async def _beat(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            slept = loop.time()
            await asyncio.sleep(self.interval)
            self._samples.append(max(0.0, loop.time() - slept - self.interval) * 1000)
