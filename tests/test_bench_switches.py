"""What the benchmarks read or switch off: the IOLoop lag probe (it sees a blocked loop, and
only a benchmark routes it) and the access log."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

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


async def test_the_access_log_can_be_left_to_a_proxy_but_errors_are_always_logged(
    serve_app: ServeApp, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tornado.access")
    logged = await serve_app(app_settings())
    quiet = await serve_app(app_settings(server={"access_log": False}))
    for running in (logged, quiet):
        await running.browser().request("GET", "/api/session")
        await running.browser().request("GET", "/no/such/path")
    lines = [record.getMessage() for record in caplog.records if record.name == "tornado.access"]
    assert [line.split(" (")[0] for line in lines] == [
        "200 GET /api/session",
        "404 GET /no/such/path",
        "404 GET /no/such/path",  # the quiet app's: an error still gets its line
    ]
