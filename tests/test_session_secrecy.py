"""A session id is a bearer secret: it never shows in a log line (chatapp, the web stack,
the store drivers, all at DEBUG), in a URL the app makes, or in an answer body,
whatever the flow.

The drivers are in too: stores keep a session under its key, a hash of the id
(chatapp.sessions.session.store_key), so PyMongo's DEBUG command log, which
prints whole documents, shows keys that open nothing.
"""

from __future__ import annotations

import logging

import pytest
from tornado.web import decode_signed_value

from chatapp.sessions.cookies import COOKIE_NAME
from tests.apps import PASSWORD, StartApp, leave
from tests.client import Browser
from tests.helpers import call


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
            ids.add(value)  # the signed cookie, and the id in it
            session_id = decode_signed_value(running.app.cookies.secret, COOKIE_NAME, value)
            assert session_id is not None
            ids.add(session_id.decode())

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
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "GET /api/session" in text  # the log was captured at all
    if "mongodb" in running.store.name:
        assert "insert" in text.lower()  # the driver's command log too
    for secret in ids:
        assert secret not in text
        assert not [b for b in bodies if secret.encode() in b]
