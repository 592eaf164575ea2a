"""The session through a running Tornado app: cookie, lazy save, regenerate, destroy, expiry.

Run over every store. Logging in is the social layer's job; here a small
test-only handler plays its part: it sets the user and regenerates the id.
"""

from __future__ import annotations

import asyncio
import time
from email.utils import parsedate_to_datetime

from tornado.web import create_signed_value

from chatapp.sessions.cookies import COOKIE_NAME, SECURE_COOKIE_NAME
from tests.apps import SECRET, StartApp, leave
from tests.client import Browser, body
from tests.helpers import call


def session_cookie_header(browser: Browser) -> str:
    (header,) = [h for h in browser.set_cookie_headers if h.startswith(COOKIE_NAME + "=")]
    return header


async def test_anonymous_reads_store_nothing_and_set_no_session_cookie(start_app: StartApp) -> None:
    running = await start_app()
    browser = running.browser()
    for _ in range(3):
        response = await browser.request("GET", "/api/session")
        assert response.code == 200
        assert body(response)["authenticated"] is False
        assert "Cookie" in response.headers["Vary"]
    assert (await browser.request("GET", "/healthz")).code == 200
    assert COOKIE_NAME not in browser.cookies
    assert "_xsrf" in browser.cookies


async def test_the_first_write_creates_the_session_and_a_strict_cookie(start_app: StartApp) -> None:
    running = await start_app(absolute_timeout=3600)
    browser = running.browser()
    response = await browser.request("PUT", "/api/prefs", {"theme": "dark"})
    assert response.code == 200, response.body
    assert body(response) == {"prefs": {"theme": "dark"}}
    header = session_cookie_header(browser)
    attributes = {part.strip().split("=")[0].lower() for part in header.split(";")}
    assert {"httponly", "path", "samesite", "expires"} <= attributes
    assert "samesite=lax" in header.lower() and "path=/" in header.lower()
    assert "secure" not in attributes
    expires = parsedate_to_datetime(header.split("expires=")[1].split(";")[0]).timestamp()
    assert time.time() < expires <= time.time() + 3600 + 1  # not Tornado's 30 days
    again = await browser.request("GET", "/api/session")
    assert body(again)["prefs"] == {"theme": "dark"}


async def test_with_secure_cookies_the_session_cookie_is_a_host_prefixed_secure_one(
    start_app: StartApp,
) -> None:
    """`__Host-`: the browser takes it only Secure, with Path=/ and no Domain, and only
    from HTTPS, so no subdomain or plain-HTTP page can plant or overwrite it."""
    running = await start_app(secure_cookies=True)
    browser = await running.login("alice")
    (header,) = [h for h in browser.set_cookie_headers if h.startswith(SECURE_COOKIE_NAME + "=")]
    attributes = [part.strip().lower() for part in header.split(";")[1:]]
    assert {"secure", "httponly", "path=/", "samesite=lax"} <= set(attributes)
    assert not [a for a in attributes if a.startswith("domain")]
    assert COOKIE_NAME not in browser.cookies
    assert body(await browser.request("GET", "/api/session"))["authenticated"] is True
    tab = await running.socket(browser)  # sockets read the same cookie
    assert (await call(tab, "session:get"))["ok"] is True
    # The same signed id under the plain name, as a plain-HTTP page could set it: not read.
    planted = running.browser()
    planted.cookies[COOKIE_NAME] = browser.cookies[SECURE_COOKIE_NAME]
    assert body(await planted.request("GET", "/api/session"))["authenticated"] is False
    # Logout clears it with the attributes it was set with (else the browser keeps it).
    await browser.request("POST", "/api/logout")
    cleared = [h for h in browser.set_cookie_headers if h.startswith(SECURE_COOKIE_NAME + '=""')]
    assert cleared and "secure" in cleared[-1].lower() and "path=/" in cleared[-1].lower()
    assert SECURE_COOKIE_NAME not in browser.cookies
    await leave(tab)


async def test_a_read_only_request_writes_nothing(start_app: StartApp) -> None:
    running = await start_app(touch_interval=30)
    browser = running.browser()
    await browser.request("PUT", "/api/prefs", {"theme": "dark"})
    session_id = running.app.cookies.session_id(browser.cookies[COOKIE_NAME])
    assert session_id is not None
    before = await running.store.load(session_id)
    for _ in range(3):
        await browser.request("GET", "/api/session")
    after = await running.store.load(session_id)
    assert before is not None and after is not None
    assert (after.data, after.expires_at) == (before.data, before.expires_at)


async def test_state_changes_need_the_xsrf_header(start_app: StartApp) -> None:
    running = await start_app()
    browser = running.browser()
    response = await browser.request("PUT", "/api/prefs", {"theme": "dark"}, xsrf=False)
    assert response.code == 403
    assert body(response)["error"]["code"] == "xsrf_failed"
    assert COOKIE_NAME not in browser.cookies


async def test_bad_prefs_are_refused_with_a_code(start_app: StartApp) -> None:
    browser = (await start_app()).browser()
    for payload, code in [
        ({"theme": "pink"}, "invalid_theme"),
        ({"theme": 1}, "invalid_theme"),
        ({"theme": "dark", "x": 1}, "unknown_field"),
        ("[1]", "invalid_json"),
        ("{not json", "invalid_json"),
        ({}, "invalid_theme"),
    ]:
        response = await browser.request("PUT", "/api/prefs", payload)
        assert response.code == 400, payload
        assert body(response)["error"]["code"] == code


async def test_forged_malformed_and_unknown_cookies_are_anonymous(start_app: StartApp) -> None:
    running = await start_app()
    owner = running.browser()
    await owner.request("PUT", "/api/prefs", {"theme": "dark"})
    genuine = owner.cookies[COOKIE_NAME]
    unknown = create_signed_value(SECRET, COOKIE_NAME, "A" * 43).decode()
    malformed = create_signed_value(SECRET, COOKIE_NAME, "../../etc/passwd").decode()
    forged = genuine[:-3] + ("abc" if not genuine.endswith("abc") else "xyz")
    # A valid v1 signature of the genuine id: Tornado's older, weaker format is refused.
    session_id = running.app.cookies.session_id(genuine) or ""
    version_1 = create_signed_value(SECRET, COOKIE_NAME, session_id, version=1).decode()
    for cookie in (forged, unknown, malformed, "garbage", genuine.split("|")[0], version_1):
        stranger = running.browser()
        stranger.cookies[COOKIE_NAME] = cookie
        assert body(await stranger.request("GET", "/api/session"))["prefs"] == {"theme": "light"}
        await stranger.request("PUT", "/api/prefs", {"theme": "dark"})
        assert stranger.cookies[COOKIE_NAME] != cookie  # a fresh id, never the client's
        fresh_id = running.app.cookies.session_id(stranger.cookies[COOKIE_NAME])
        assert fresh_id not in (None, "A" * 43)


async def test_login_regenerates_the_id_and_carries_the_data(start_app: StartApp) -> None:
    running = await start_app()
    browser = running.browser()
    await browser.request("PUT", "/api/prefs", {"theme": "dark"})
    before = running.app.cookies.session_id(browser.cookies[COOKIE_NAME])
    response = await browser.request("POST", "/test/login", {"username": "alice"})
    assert response.code == 200
    assert response.headers["Cache-Control"] == "no-store"
    after = running.app.cookies.session_id(browser.cookies[COOKIE_NAME])
    assert after is not None and after != before
    assert await running.store.load(before) is None  # type: ignore[arg-type]
    state = body(await browser.request("GET", "/api/session"))
    assert state["authenticated"] is True
    alice = await running.user_id("alice")
    assert state["user"] == {"id": alice, "username": "alice", "display_name": "alice"}
    assert state["prefs"] == {"theme": "dark"}
    assert await running.store.session_ids_of(alice) == [after]


async def test_logout_destroys_the_session_and_clears_the_cookie(start_app: StartApp) -> None:
    running = await start_app()
    browser = running.browser()
    await browser.request("POST", "/test/login", {"username": "alice"})
    old_cookie = browser.cookies[COOKIE_NAME]
    response = await browser.request("POST", "/api/logout")
    assert response.code == 204
    assert COOKIE_NAME not in browser.cookies
    assert await running.store.session_ids_of(await running.user_id("alice")) == []
    replay = running.browser()
    replay.cookies[COOKIE_NAME] = old_cookie
    assert body(await replay.request("GET", "/api/session"))["authenticated"] is False


async def test_prefs_belong_to_the_session_not_the_user(start_app: StartApp) -> None:
    running = await start_app()
    laptop, phone = running.browser(), running.browser()
    await laptop.request("POST", "/test/login", {"username": "alice"})
    await phone.request("POST", "/test/login", {"username": "alice"})
    await laptop.request("PUT", "/api/prefs", {"theme": "dark"})
    assert body(await phone.request("GET", "/api/session"))["prefs"] == {"theme": "light"}


async def test_requests_renew_the_idle_timeout_and_idleness_ends_the_session(
    start_app: StartApp,
) -> None:
    running = await start_app(idle_timeout=1.0, touch_interval=0.2)
    active, idle = running.browser(), running.browser()
    await active.request("POST", "/test/login", {"username": "alice"})
    await idle.request("POST", "/test/login", {"username": "bob"})
    for _ in range(6):  # 1.8 s of activity: longer than the idle timeout
        await asyncio.sleep(0.3)
        assert body(await active.request("GET", "/api/session"))["authenticated"] is True
    assert body(await idle.request("GET", "/api/session"))["authenticated"] is False


async def test_the_absolute_timeout_ends_even_an_active_session(start_app: StartApp) -> None:
    running = await start_app(idle_timeout=10, absolute_timeout=1.0, touch_interval=0.1)
    browser = running.browser()
    await browser.request("POST", "/test/login", {"username": "alice"})
    deadline = time.monotonic() + 5
    while body(await browser.request("GET", "/api/session"))["authenticated"]:
        assert time.monotonic() < deadline, "the session outlived its absolute timeout"
        await asyncio.sleep(0.2)


async def test_a_browser_gets_an_html_404_page_and_the_api_always_json(
    start_app: StartApp,
) -> None:
    browser = (await start_app()).browser()
    html = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    page = await browser.request("GET", "/no/such/page", headers=html)
    assert page.code == 404
    assert page.headers["Content-Type"].startswith("text/html")
    assert "Content-Security-Policy" in page.headers
    assert b"Page not found" in page.body
    for path in ("/api/nothing-here", "/api/friends/a/b", "/api"):
        api = await browser.request("GET", path, headers=html)
        assert api.code == 404 and body(api)["error"]["code"] == "not_found"
        assert api.headers["Content-Type"].startswith("application/json"), path
    script = await browser.request("GET", "/no/such/page")
    assert script.code == 404 and body(script)["error"]["code"] == "not_found"


async def test_favicon_ico_is_the_apps_icon(start_app: StartApp) -> None:
    """Browsers and crawlers ask for /favicon.ico whatever a page names (it was a 404)."""
    icon = await (await start_app()).browser().request("GET", "/favicon.ico")
    assert icon.code == 200 and icon.headers["Content-Type"] == "image/svg+xml"
    assert icon.body.startswith(b"<svg")


async def test_unknown_paths_answer_404_in_the_error_shape(start_app: StartApp) -> None:
    browser = (await start_app()).browser()
    response = await browser.request("GET", "/api/nothing-here")
    assert response.code == 404
    assert body(response)["error"]["code"] == "not_found"
    response = await browser.request("DELETE", "/api/session")
    assert response.code == 405
    assert body(response)["error"]["code"] == "method_not_allowed"
