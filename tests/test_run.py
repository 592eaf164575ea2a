"""run.py as the contract starts it: the listening line, one-line errors, /healthz."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tornado.httpclient import AsyncHTTPClient

from chatapp.demo import demo_password
from tests.client import Browser, body
from tests.processes import FAST_HASHES, ROOT, AppProcess
from tests.servers import RedisServer, free_port


def run_failing(
    tmp_path: Path, settings_text: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    (tmp_path / "settings.ini").write_text(settings_text)
    return subprocess.run(
        [sys.executable, str(ROOT / "run.py"), "--port", "0", *args],
        cwd=tmp_path,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=30,
    )


async def get(url: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    response = await AsyncHTTPClient().fetch(url, raise_error=False, request_timeout=10)
    return response.code, body(response)


async def test_the_shipped_settings_start_and_answer_healthz(tmp_path: Path) -> None:
    app = AppProcess(tmp_path, (ROOT / "settings.ini").read_text())
    try:
        url = app.wait_listening()
        assert await get(url + "/healthz") == (200, {"status": "ok", "session_store": "file"})
    finally:
        assert app.stop() == 0


async def test_two_processes_starting_together_share_one_sqlite_file(tmp_path: Path) -> None:
    """Before: one of them exited with "database is locked"."""
    shared = tmp_path / "shared.sqlite3"
    text = f"[session]\nstore = memory\n[database]\nurl = sqlite:///{shared}\n"
    apps = [AppProcess(tmp_path / name, text) for name in ("a", "b")]
    try:
        for app in apps:
            assert (await get(app.wait_listening() + "/healthz"))[0] == 200
    finally:
        for app in apps:
            assert app.stop() == 0


def test_the_data_is_private_whatever_supplies_the_secret(tmp_path: Path) -> None:
    """Before: with CHATAPP_COOKIE_SECRET set, var/ was 0755 and the SQLite file 0644."""
    app = AppProcess(tmp_path, "")  # the embedded defaults: var/sessions, var/chatapp.sqlite3
    app.wait_listening()
    app.stop()
    var = tmp_path / "var"
    assert var.stat().st_mode & 0o777 == 0o700
    assert (var / "sessions").stat().st_mode & 0o777 == 0o700
    assert (var / "chatapp.sqlite3").stat().st_mode & 0o777 == 0o600


def test_no_settings_file_means_the_embedded_defaults(tmp_path: Path) -> None:
    app = AppProcess(tmp_path, "")
    (tmp_path / "settings.ini").unlink()
    try:
        assert app.wait_listening().startswith("http://127.0.0.1:")
    finally:
        app.stop()


def test_a_generated_cookie_secret_is_private_and_kept(tmp_path: Path) -> None:
    secret = tmp_path / "var" / "cookie_secret"
    generated = []
    for _ in range(2):  # the second start reads what the first generated
        app = AppProcess(tmp_path, "", env={"CHATAPP_COOKIE_SECRET": ""})
        app.wait_listening()
        app.stop()
        assert secret.stat().st_mode & 0o777 == 0o600
        generated.append(secret.read_text())
    assert generated[0] == generated[1]
    assert len(generated[0].strip()) >= 32


@pytest.mark.parametrize(
    ("settings_text", "args", "key"),
    [
        ("[session]\nstore = postgres\n", (), "[session] store"),
        ("[session]\nidle_timeout = 30 minutes\n", (), "[session] idle_timeout"),
        ("[session]\nabsolute_timeout = -1d\n", (), "[session] absolute_timeout"),
        ("[session]\nmemory_max_sessions = many\n", (), "[session] memory_max_sessions"),
        ("[server]\nsecure_cookies = perhaps\n", (), "[server] secure_cookies"),
        ("[mongodb]\ndriver = mongoengine\n", (), "[mongodb] driver"),
        ("[redis]\nurl = http://localhost\n", (), "[redis] url"),
        ("", ("--config", "missing.ini"), "--config"),
        ("[session\nstore = file\n", (), "settings.ini"),
    ],
)
def test_a_bad_setting_is_one_line_naming_the_key_and_exit_2(
    tmp_path: Path, settings_text: str, args: tuple[str, ...], key: str
) -> None:
    result = run_failing(tmp_path, settings_text, *args)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert key in result.stderr


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        ("[session]\nstore = redis\n[redis]\nurl = redis://127.0.0.1:{port}/0", "[redis] url"),
        (
            "[session]\nstore = mongodb\n[mongodb]\nurl = mongodb://127.0.0.1:{port}/c",
            "[mongodb] url",
        ),
        ("[database]\nurl = mongodb://127.0.0.1:{port}/c", "[database] url"),
        ("[socketio]\nmessage_queue = redis://127.0.0.1:{port}/0", "[socketio] message_queue"),
    ],
)
def test_an_unreachable_backend_at_start_up_is_one_line_and_exit_2(
    tmp_path: Path, settings: str, key: str
) -> None:
    started = time.monotonic()
    result = run_failing(
        tmp_path,
        settings.format(port=free_port()),
        env={"CHATAPP_REDIS_TIMEOUT": "1s", "CHATAPP_MONGODB_TIMEOUT": "1s"},
    )
    assert time.monotonic() - started < 20  # bounded by the timeouts, not a hang
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert key in result.stderr


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of this test's own, which the test may stop and start again."""
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


async def test_healthz_says_503_while_the_store_is_down_and_200_when_back(
    tmp_path: Path, own_redis: RedisServer
) -> None:
    settings = f"[session]\nstore = redis\n[redis]\nurl = {own_redis.url}\ntimeout = 1s\n"
    app = AppProcess(tmp_path / "app", settings)
    try:
        url = app.wait_listening()
        assert (await get(url + "/healthz"))[0] == 200
        own_redis.stop()
        code, report = await get(url + "/healthz")  # a refusal is seen at once
        assert code == 503
        assert report["failing"] == ["session_store"]
        assert report["error"]["code"] == "backend_unavailable"
        assert "[redis] url" in report["error"]["message"]
        code, report = await get(url + "/api/session")
        assert code == 200  # no cookie: the store is not needed, so not asked
        own_redis.start()
        for _ in range(50):
            if (await get(url + "/healthz"))[0] == 200:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("healthz did not recover")
    finally:
        app.stop()
    assert "session store" in "".join(app.output)  # the 503 was logged


async def test_the_demo_logins_work_and_seeding_twice_changes_nothing(tmp_path: Path) -> None:
    for _ in range(2):
        app = AppProcess(tmp_path, FAST_HASHES, "--demo")
        try:
            url = app.wait_listening()
            browser = Browser(url)
            response = await browser.request(
                "POST", "/api/login", {"username": "alice", "password": demo_password("alice")}
            )
            assert response.code == 200, response.body
            feed = body(await browser.request("GET", "/api/feed"))["posts"]
            assert {p["author"]["username"] for p in feed} == {"alice", "bob", "carol"}
            assert len(feed) == 3  # seeded once, not twice
            friends = body(await browser.request("GET", "/api/friends"))
            assert {f["username"] for f in friends["friends"]} == {"bob", "carol"}
            assert friends["incoming"] == friends["requested"] == []
            (chat,) = body(await browser.request("GET", "/api/conversations"))["conversations"]
            assert chat["with"]["username"] == "bob" and chat["unread"] == 1
            assert body(await browser.request("GET", "/api/notifications"))["unread"] > 0
            (room,) = body(await browser.request("GET", "/api/rooms"))["rooms"]
            assert room["room"]["name"] == "Tea party" and room["unread"] == 2
            assert len(room["room"]["members"]) == 3
            page = await Browser(url).request("GET", "/login", headers={"Accept": "text/html"})
            assert b"alice-demo" in page.body  # the login page names the demo logins
        finally:
            app.stop()


async def test_a_demo_username_taken_by_a_real_account_creates_nothing(tmp_path: Path) -> None:
    app = AppProcess(tmp_path, FAST_HASHES)
    try:
        browser = Browser(app.wait_listening())
        signup = {"username": "bob", "password": "a real password"}
        assert (await browser.request("POST", "/api/signup", signup)).code == 201
    finally:
        app.stop()
    demo = AppProcess(tmp_path, FAST_HASHES, "--demo")
    assert demo.process.wait(timeout=20) == 2
    (line,) = demo.stderr().splitlines()
    assert "'bob'" in line and "no demo data was created" in line
    app = AppProcess(tmp_path, FAST_HASHES)
    try:
        browser = Browser(app.wait_listening())
        assert (await browser.request("POST", "/api/login", signup)).code == 200
        assert body(await browser.request("GET", "/api/users?q=alice"))["users"] == []
    finally:
        app.stop()
