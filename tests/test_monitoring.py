"""deploy/'s Prometheus config and Grafana dashboard, loaded by the real thing: promtool
checks the config, and a Prometheus started with it (its target pointed at a running
app, scraping every second) answers every query of the dashboard."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.apps import Running, ServeApp, app_settings, leave
from tests.helpers import call
from tests.processes import ROOT
from tests.servers import free_port

CONFIG = ROOT / "deploy" / "prometheus" / "prometheus.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "chatapp-dashboard.json"
PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"

pytestmark = pytest.mark.slow


def dashboard_queries() -> list[tuple[str, str]]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [(panel["title"], target["expr"]) for panel in panels for target in panel["targets"]]


def test_promtool_accepts_the_scrape_config() -> None:
    result = subprocess.run(
        [PROMTOOL, "check", "config", str(CONFIG)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_dashboard_is_grafana_json_whose_queries_name_chatapps_metrics() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] == "chatapp" and dashboard["panels"]
    assert {v["name"] for v in dashboard["templating"]["list"]} == {"datasource"}
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for title, query in dashboard_queries():
        assert "chatapp_" in query, title


@pytest.fixture
async def prometheus(tmp_path: Path, serve_app: ServeApp) -> AsyncIterator[tuple[str, Running]]:
    """A Prometheus with deploy/'s config, its one target a running app, every second."""
    running = await serve_app(app_settings(session={"store": "memory"}))
    target = running.url.removeprefix("http://")
    config = tmp_path / "prometheus.yml"
    config.write_text(
        CONFIG.read_text()
        .replace("15s", "1s")
        .replace('["127.0.0.1:8001", "127.0.0.1:8002"]', f'["{target}"]')
    )
    port = free_port()
    process = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield f"http://127.0.0.1:{port}", running
    finally:
        process.terminate()
        process.wait(timeout=10)


async def query(http: aiohttp.ClientSession, base: str, expression: str) -> dict[str, Any]:
    async with http.get(f"{base}/api/v1/query", params={"query": expression}) as answer:
        result: dict[str, Any] = await answer.json()
        return result


async def test_a_prometheus_with_the_config_answers_every_dashboard_query(
    prometheus: tuple[str, Running],
) -> None:
    base, running = prometheus
    alice = await running.login("alice")
    tab = await running.socket(alice)
    async with aiohttp.ClientSession() as http:
        deadline = time.monotonic() + 30
        scraped: list[Any] = []
        while time.monotonic() < deadline:  # Prometheus starts, then scrapes twice or more
            await call(tab, "session:get")
            await alice.request("GET", "/api/feed")
            try:
                found = await query(http, base, "chatapp_sockets_connected")
                rated = await query(http, base, "rate(chatapp_http_requests_total[1m])")
            except aiohttp.ClientError:
                found = rated = {"data": {"result": []}}
            scraped = found["data"]["result"]
            if scraped and rated["data"]["result"]:
                break
            await asyncio.sleep(0.5)
        assert scraped and scraped[0]["value"][1] == "1", "no scrape of the app within 30 s"
        for title, expression in dashboard_queries():
            answer = await query(http, base, expression)
            assert answer["status"] == "success", (title, answer)
        requests = await query(http, base, dashboard_queries()[0][1])
        assert {r["metric"]["route"] for r in requests["data"]["result"]} >= {"FeedHandler"}
    await leave(tab)
