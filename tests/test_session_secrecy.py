"""A session id is a bearer secret: it never shows in a log line of chatapp or the web
stack (at DEBUG), in a URL the app makes, or in an answer body, whatever the flow.

MongoDB's driver is left out: at DEBUG, PyMongo's command log prints whole
documents, a session's `_id` among them (so does SecantusDB's). Storing a
hash of the id as the key would close that; until then run.py logs at INFO.
"""

from __future__ import annotations

import logging

import pytest

from chatapp.sessions.cookies import COOKIE_NAME
from tests.apps import PASSWORD, StartApp, leave
from tests.client import Browser
from tests.helpers import call

#: Loggers of MongoDB drivers and test servers, which print documents at DEBUG.
DRIVER_LOGGERS = {"pymongo", "motor", "secantus"}


async def test_no_session_id_reaches_a_log_line_a_url_or_a_body(
    start_app: StartApp, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    running = await start_app()
    ids: set[str] = set()
    bodies: list[bytes] = []

    def remember(browser: Browser) -> None:
        value = browser.cookies.get(COOKIE_NAME)
        if value:
            ids.add(value)
            session_id = running.app.cookies.session_id(value)
            assert session_id is not None
            ids.add(session_id)

    async def request(browser: Browser, method: str, path: str, data: object = None) -> None:
        response = await browser.request(method, path, data)
        assert response.code < 500, response.body
        bodies.append(response.body)
        assert not response.headers.get("Location")  # the API never redirects with it
        remember(browser)

    alice = running.browser()
    await request(alice, "PUT", "/api/prefs", {"theme": "dark"})  # an anonymous session
    await request(alice, "POST", "/api/signup", {"username": "alice", "password": PASSWORD})
    other = running.browser()
    await request(other, "POST", "/api/login", {"username": "alice", "password": PASSWORD})
    await request(other, "POST", "/api/login", {"username": "alice", "password": "wrong one"})
    for transport in ("websocket", "polling"):
        tab = await running.socket(alice, transport)
        assert (await call(tab, "prefs:set", {"theme": "light"}))["ok"] is True
        assert (await call(tab, "session:get"))["ok"] is True
        await leave(tab)
    await request(alice, "GET", "/api/sessions")
    await request(alice, "GET", "/")
    new_password = {"current_password": PASSWORD, "new_password": "another password 2"}
    await request(alice, "PUT", "/api/password", new_password)
    await request(alice, "POST", "/api/logout")
    for stale in ids.copy():  # a replayed, ended session: anonymous, and still not echoed
        replay = running.browser()
        replay.cookies[COOKIE_NAME] = stale
        response = await replay.request("GET", "/api/session")
        assert response.code == 200 and b'"authenticated": false' in response.body
        bodies.append(response.body)

    assert len(ids) >= 6  # anonymous, signed up, another login, after the password change
    text = "\n".join(
        record.getMessage()
        for record in caplog.records
        if record.name.split(".")[0] not in DRIVER_LOGGERS
    )
    assert "GET /api/session" in text  # the log was captured at all
    for secret in ids:
        assert secret not in text
        assert not [b for b in bodies if secret.encode() in b]
