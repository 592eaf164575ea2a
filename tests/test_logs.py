"""Log lines (chatapp.logs): JSON lines when asked, and every line naming the request id of
the work it belongs to, from an HTTP request into the socket events it causes in every
process."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest
from tornado.httpclient import AsyncHTTPClient

from chatapp.logs import WithRequestId
from tests.apps import Cluster, unique
from tests.helpers import disconnected
from tests.processes import AppProcess


async def test_json_lines_carry_the_request_id_the_client_sent_or_a_new_one(
    tmp_path: Path,
) -> None:
    settings = (
        "[server]\nlog_format = json\n[accounts]\nargon2_time_cost = 1\nargon2_memory_kib = 64\n"
    )
    app = AppProcess(tmp_path, settings)
    try:
        url = app.wait_listening()
        http = AsyncHTTPClient()
        given = await http.fetch(f"{url}/api/session", headers={"X-Request-ID": "edge-42"})
        made = await http.fetch(f"{url}/api/session")
        refused = await http.fetch(
            f"{url}/api/session", headers={"X-Request-ID": "not a token!"}, raise_error=False
        )
        assert given.headers["X-Request-ID"] == "edge-42"
        assert len(made.headers["X-Request-ID"]) == 16
        assert refused.headers["X-Request-ID"] not in ("not a token!", made.headers["X-Request-ID"])
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and sum("/api/session" in x for x in app.output) < 3:
            time.sleep(0.05)
    finally:
        app.stop()
    lines = [json.loads(line) for line in app.output if line.startswith("{")]
    assert lines and all(
        {"time", "level", "logger", "message", "request_id"} <= set(x) for x in lines
    )
    access = [
        x for x in lines if x["logger"] == "tornado.access" and "/api/session" in x["message"]
    ]
    assert [x["request_id"] for x in access] == [
        "edge-42",
        made.headers["X-Request-ID"],
        refused.headers["X-Request-ID"],
    ]
    assert all(x["time"].endswith("Z") for x in lines)


async def test_a_logout_names_its_request_in_the_other_process_that_ends_the_sockets(
    cluster: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.handler.addFilter(WithRequestId())
    caplog.set_level(logging.INFO, logger="chatapp.realtime.registry")
    a, b = await cluster()
    laptop = await a.login(unique("alice"))
    tab = await a.socket(laptop, events=("session:ended",))
    answer = await b.browser_with(laptop).request(
        "POST", "/api/logout", headers={"X-Request-ID": "logout-7"}
    )
    assert answer.code == 204
    await disconnected(tab, limit=2.0)
    ended = [r for r in caplog.records if r.getMessage().startswith("ending 1 socket(s)")]
    assert [getattr(r, "request_id", None) for r in ended] == ["logout-7"]
