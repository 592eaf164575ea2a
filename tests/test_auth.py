"""Login attempts as an attacker sees them: one password check each, one answer, one log line.

The contract's login row (throttling) is tested in test_api; here what a
failed attempt reveals: nothing that tells an unknown user from a wrong
password, and nothing secret in the auth log.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import argon2
import pytest
from tornado.httpclient import HTTPResponse

from chatapp.accounts.throttle import (
    ADDRESS_FAILURES,
    ADDRESS_WINDOW,
    FIRST_LOCKOUT,
    LONGEST_LOCKOUT,
    USERNAME_FAILURES,
    wait_for,
)
from tests.apps import PASSWORD, Running, ServeApp, app_settings, unique
from tests.client import Browser
from tests.helpers import call


@pytest.fixture
async def running(serve_app: ServeApp) -> Running:
    return await serve_app(app_settings(server={"behind_proxy": True}))


@pytest.fixture
def hash_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The stored hashes a login was checked against, in order (the real check still runs)."""
    checked: list[str] = []
    lock = threading.Lock()
    real: Callable[[argon2.PasswordHasher, str, str], bool] = argon2.PasswordHasher.verify

    def counting(hasher: argon2.PasswordHasher, stored: str, password: str) -> bool:
        with lock:
            checked.append(stored)
        return real(hasher, stored, password)

    monkeypatch.setattr(argon2.PasswordHasher, "verify", counting)
    return checked


def answer(response: HTTPResponse) -> tuple[int, list[tuple[str, str]], bytes]:
    """What a client can compare between two answers (aside from the Date and the request
    id, which differ for every answer alike)."""
    per_answer = {"Date", "X-Request-Id"}
    headers = sorted((k, v) for k, v in response.headers.get_all() if k not in per_answer)
    return response.code, headers, response.body


async def attempt(browser: Browser, username: str, password: str) -> HTTPResponse:
    return await browser.request("POST", "/api/login", {"username": username, "password": password})


async def test_unknown_user_and_wrong_password_cost_one_check_and_answer_alike(
    running: Running, hash_checks: list[str]
) -> None:
    alice = unique("alice")
    await running.member(alice)
    answers, settings = [], []
    for username in (f"{alice}x", alice, f"{alice}y", alice):  # unknown first: nothing cached
        browser = running.browser()
        await browser.request("GET", "/api/session")  # the XSRF cookie, set alike for both
        hash_checks.clear()
        response = await attempt(browser, username, "wrong-password")
        assert len(hash_checks) == 1, username
        settings.append(hash_checks[0].split("$")[1:4])  # argon2id, v=19, m=..,t=..,p=..
        answers.append(answer(response))
    assert settings[0][0] == "argon2id" and all(s == settings[0] for s in settings)
    assert answers[0][0] == 401
    assert answers[0] == answers[1] == answers[2] == answers[3]


@pytest.mark.parametrize(
    "password",
    ["a" * 72, "a" * 73, "b" * 128, "é" * 64, "пароль-" * 10, "👍" * 64],
    ids=["72", "73", "128", "64-e-acute", "cyrillic", "emoji"],
)
async def test_long_and_non_ascii_passwords_sign_up_and_log_in(
    running: Running, password: str
) -> None:
    username = unique("long")
    credentials = {"username": username, "password": password}
    assert (await running.browser().request("POST", "/api/signup", credentials)).code == 201
    assert (await attempt(running.browser(), username, password)).code == 200
    for near in (password[:-1], password + "a", password[:72], password.upper()):
        if near != password:
            assert (await attempt(running.browser(), username, near)).code == 401


def test_a_lockout_ends_after_its_window_and_grows_while_failures_go_on() -> None:
    """The throttle's arithmetic (test_api drives it through the API, in real time)."""
    n = USERNAME_FAILURES
    assert wait_for(n - 1, last=100.0, recent=[], now=100.0) == 0
    assert wait_for(n, last=100.0, recent=[], now=100.0) == FIRST_LOCKOUT
    assert wait_for(n, last=100.0, recent=[], now=100.0 + FIRST_LOCKOUT) == 0  # window over
    assert wait_for(n + 1, last=100.0, recent=[], now=100.0) == 2 * FIRST_LOCKOUT
    assert wait_for(n + 30, last=100.0, recent=[], now=100.0) == LONGEST_LOCKOUT
    full = [100.0 + i for i in range(ADDRESS_FAILURES)]
    assert wait_for(0, last=0.0, recent=full, now=120.0) == ADDRESS_WINDOW - 20
    assert wait_for(0, last=0.0, recent=full[1:], now=120.0) == 0


async def test_auth_events_are_logged_once_each_without_a_secret(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    alice = unique("alice")
    caplog.set_level(logging.DEBUG, logger="chatapp.auth")
    laptop = running.browser()
    signup = {"username": alice, "password": PASSWORD}
    assert (await laptop.request("POST", "/api/signup", signup)).code == 201
    phone = running.browser()
    assert (await attempt(phone, alice, PASSWORD)).code == 200
    assert (await attempt(running.browser(), alice, "wrong-password-1")).code == 401
    assert (await attempt(running.browser(), "nobody-\n-forged", "wrong-password-2")).code == 401
    new_password = "a new password entirely"
    change = {"current_password": PASSWORD, "new_password": new_password}
    assert (await laptop.request("PUT", "/api/password", change)).code == 204
    tab = await running.socket(laptop)
    assert (await call(tab, "auth:logout"))["ok"] is True
    for n in range(USERNAME_FAILURES + 1):
        await attempt(running.browser(), alice, f"guess-{n}")
    secrets = [PASSWORD, new_password, "wrong-password", *_cookie_values(laptop, phone)]
    lines = [record.getMessage() for record in caplog.records if record.name == "chatapp.auth"]
    assert not [line for line in lines if any(secret in line for secret in secrets)]
    assert not [line for line in lines if "\n" in line]  # a username cannot forge a line
    user_id = await running.user_id(alice)

    def count(start: str, *parts: str) -> int:
        return sum(line.startswith(start) and all(p in line for p in parts) for line in lines)

    assert count("sign-up: user", user_id, repr(alice)) == 1
    assert count("login: user", user_id, "from 127.0.0.1") == 1
    assert count("login failed (wrong password)", repr(alice)) == 1 + USERNAME_FAILURES
    assert count("login failed (unknown user)", "nobody-") == 1
    assert count("password changed: user", user_id) == 1
    assert count("1 other logins ended (password_changed): user", user_id) == 1
    assert count("session ended (logout): user", user_id) == 1
    assert count("login throttled", repr(alice)) == 1


def _cookie_values(*browsers: Browser) -> list[str]:
    """Every cookie value these browsers were ever given (session ids, XSRF tokens)."""
    values = [v for browser in browsers for v in browser.cookies.values()]
    for browser in browsers:
        values += [h.split(";")[0].split("=", 1)[1] for h in browser.set_cookie_headers]
    return [value for value in values if len(value) > 8]
