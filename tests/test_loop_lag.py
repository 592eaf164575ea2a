"""The benchmark's IOLoop lag probe: it sees a blocked loop, and only a benchmark routes it."""

from __future__ import annotations

import asyncio
import time

from chatapp.loop_lag import LoopLag
from tests.apps import ServeApp, app_settings
from tests.client import body


async def test_a_blocked_loop_shows_as_one_late_beat() -> None:
    probe = LoopLag(interval=0.005)
    probe.start()
    try:
        await asyncio.sleep(0.05)
        time.sleep(0.08)  # blocks the loop, as a long synchronous call would
        await asyncio.sleep(0.05)
        samples = probe.take()
    finally:
        probe.stop()
    assert max(samples) >= 70
    assert sum(1 for lag in samples if lag >= 70) == 1
    assert probe.take() == []  # a read hands the samples over


async def test_the_probe_is_served_only_when_the_bench_setting_asks(serve_app: ServeApp) -> None:
    plain = await serve_app(app_settings())
    response = await plain.browser().request("GET", "/bench/loop-lag")
    assert response.code == 404
    assert body(response)["error"]["code"] == "not_found"

    probed = await serve_app(app_settings(bench={"loop_lag": True}))
    await asyncio.sleep(0.1)
    response = await probed.browser().request("GET", "/bench/loop-lag")
    assert response.code == 200
    samples = body(response)["samples_ms"]
    assert samples and all(isinstance(lag, float) and lag >= 0 for lag in samples)
