"""CSRF: every state-changing route, login and logout included, refuses a request whose
X-XSRFToken is missing, malformed, another browser's, or present without its cookie;
each refusal is `403 xsrf_failed` and changes nothing. The Socket.IO path needs no
token (its origin check is tests/test_sockets.py's)."""

from __future__ import annotations

import re

import pytest
from tornado.web import RequestHandler

from handlers import routes
from handlers.base import BaseHandler
from tests.apps import PASSWORD, ServeApp, app_settings
from tests.client import Browser, body

METHODS = ("post", "put", "patch", "delete")


def state_changing_routes() -> list[tuple[str, str]]:
    """(METHOD, path) for every handler method that changes state, groups filled in."""
    found = []
    for pattern, handler, *_ in routes():
        if not (isinstance(handler, type) and issubclass(handler, BaseHandler)):
            continue
        path = re.sub(r"\([^)]*\)", "alice", pattern).replace("\\", "")
        for method in METHODS:
            if getattr(handler, method) is not getattr(RequestHandler, method):
                found.append((method.upper(), path))
    return found


ROUTES = state_changing_routes()


def test_the_matrix_covers_login_logout_and_every_write() -> None:
    assert {("POST", "/api/login"), ("POST", "/api/logout"), ("POST", "/api/signup")} <= set(ROUTES)
    assert len(ROUTES) >= 13


@pytest.mark.parametrize("case", ["missing", "malformed", "another_browsers", "no_cookie"])
async def test_a_bad_token_is_refused_on_every_state_changing_route(
    serve_app: ServeApp, case: str
) -> None:
    running = await serve_app(app_settings())
    victim = await running.member("victim")
    attacker = running.browser()
    await attacker.request("GET", "/api/session")  # a valid token of the attacker's own
    for method, path in ROUTES:
        cookies = dict(victim.cookies)
        headers = {}
        if case == "malformed":
            headers["X-XSRFToken"] = "2|garbage|token|1"
        elif case == "another_browsers":
            headers["X-XSRFToken"] = attacker.cookies["_xsrf"]
        elif case == "no_cookie":  # a token, but no _xsrf cookie to match it against
            headers["X-XSRFToken"] = cookies.pop("_xsrf")
        forger = Browser(running.url)
        forger.cookies = cookies
        payload: dict[str, str] | None = None if method == "DELETE" else {}
        response = await forger.request(method, path, payload, xsrf=False, headers=headers)
        assert response.code == 403, (method, path, response.code)
        assert body(response)["error"]["code"] == "xsrf_failed", (method, path)
    # Nothing happened: still logged in, the password unchanged, no post made.
    state = body(await victim.request("GET", "/api/session"))
    assert state["authenticated"] is True
    assert body(await victim.request("GET", "/api/feed"))["posts"] == []
    again = running.browser()
    login = await again.request("POST", "/api/login", {"username": "victim", "password": PASSWORD})
    assert login.code == 200
