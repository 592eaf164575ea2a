"""The session cookie reader accepts exactly what chatapp signs (Hypothesis).

A cookie value names a session only when it is a Tornado v2 signature, made
with the current or a previous secret, for the session cookie's own name,
not older than the absolute timeout, of an id in the format chatapp issues.
Anything else, whatever it is, reads as no session, and nothing raises.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tornado.web import create_signed_value

from chatapp.sessions.cookies import (
    COOKIE_NAME,
    SECURE_COOKIE_NAME,
    SessionCookies,
    key_version,
    signed_key_version,
)
from chatapp.sessions.session import ID_FORMAT, store_key
from stores.memory import MemorySessionStore
from tests.apps import Running, ServeApp, app_settings
from tests.client import body

SECRET, OLD_SECRET = "s" * 43, "o" * 43
ABSOLUTE = 3600
IDS = st.from_regex(ID_FORMAT, fullmatch=True)
NOT_IDS = st.text(max_size=60).filter(lambda text: not ID_FORMAT.fullmatch(text))
EXAMPLES = settings(max_examples=300, derandomize=True, deadline=None)


def cookies(*, secure: bool = False) -> SessionCookies:
    store = MemorySessionStore(idle_timeout=60, absolute_timeout=ABSOLUTE)
    return SessionCookies(
        store, secret=SECRET, previous_secrets=[OLD_SECRET], secure=secure, touch_interval=1
    )


def signed(value: str, *, secret: str = SECRET, name: str = COOKIE_NAME, **kw: object) -> str:
    return create_signed_value(secret, name, value, **kw).decode()  # type: ignore[arg-type]


@EXAMPLES
@given(IDS, st.booleans())
def test_an_id_signed_with_a_current_or_previous_secret_is_read(sid: str, old: bool) -> None:
    """Read as the session's store key: the server never handles the id itself."""
    key = cookies().session_id(signed(sid, secret=OLD_SECRET if old else SECRET))
    assert key == store_key(sid) != sid


@EXAMPLES
@given(IDS, st.sampled_from(["current", "previous", "unknown"]))
def test_a_cookie_is_read_with_the_key_its_version_names(sid: str, key: str) -> None:
    """Tornado's key versions: one check with the key the cookie names; a previous key's
    cookie is read and marked for signing anew; a version nobody has is no session."""
    reader = cookies()
    secrets = {"current": SECRET, "previous": OLD_SECRET, "unknown": "u" * 43}
    version = key_version(secrets[key])
    value = create_signed_value(secrets[key], COOKIE_NAME, sid, key_version=version).decode()
    assert signed_key_version(value) == version != 0
    session_id, old = reader._read(value)
    if key == "unknown":
        assert session_id is None
    else:
        assert session_id == sid and old == (key == "previous")
    legacy = reader._read(signed(sid, secret=OLD_SECRET))  # key version 0: before versions
    assert legacy == (sid, True)


@EXAMPLES
@given(st.one_of(st.none(), st.text(max_size=300)))
def test_arbitrary_text_is_no_session(value: str | None) -> None:
    assert cookies().session_id(value) is None


@EXAMPLES
@given(NOT_IDS)
def test_a_signed_value_that_is_no_id_is_no_session(value: str) -> None:
    assert cookies().session_id(signed(value)) is None


@EXAMPLES
@given(IDS, st.data())
def test_any_change_to_a_signed_cookie_makes_it_no_session(sid: str, data: st.DataObject) -> None:
    value = signed(sid)
    at = data.draw(st.integers(0, len(value) - 1))
    other = data.draw(st.characters(codec="ascii").filter(lambda c: c != value[at]))
    changed = data.draw(st.sampled_from(["replace", "drop", "insert"]))
    mutated = {
        "replace": value[:at] + other + value[at + 1 :],
        "drop": value[:at] + value[at + 1 :],
        "insert": value[:at] + other + value[at:],
    }[changed]
    assert cookies().session_id(mutated) is None


@EXAMPLES
@given(IDS)
def test_other_names_secrets_versions_and_ages_are_no_session(sid: str) -> None:
    reader = cookies()
    assert reader.session_id(signed(sid, name="_xsrf")) is None
    assert reader.session_id(signed(sid, name=SECURE_COOKIE_NAME)) is None
    assert cookies(secure=True).session_id(signed(sid)) is None
    assert reader.session_id(signed(sid, secret="another secret " * 3)) is None
    assert reader.session_id(signed(sid, version=1)) is None  # v1: weaker, never issued
    too_old = time.time() - ABSOLUTE - 60
    assert reader.session_id(signed(sid, clock=lambda: too_old)) is None


@pytest.fixture
async def running(serve_app: ServeApp) -> Running:
    return await serve_app(app_settings())


# What a browser or a script may put in a Cookie header: any printable Latin-1, no CR/LF.
HEADER_TEXT = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=200
)


@settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(before=HEADER_TEXT, after=HEADER_TEXT)
async def test_garbage_around_the_session_cookie_neither_breaks_nor_forges_a_login(
    running: Running, before: str, after: str
) -> None:
    """Any header is parsed without an error; garbage alone is anonymous, and garbage
    beside a real session cookie neither hides it nor gets a 5xx."""
    alice = await running.login("alice")
    name = running.app.cookies.name
    real = f"{name}={alice.cookies[name]}"
    garbage_only = await session_with_cookie_header(running, f"{before}; {after}")
    assert garbage_only["authenticated"] is False
    beside = await session_with_cookie_header(running, f"{before}; {real}; {after}")
    # Garbage that names the session cookie again may win (the last value counts, as in
    # browsers' and Tornado's parsing); otherwise the real one is read.
    assert beside["authenticated"] is True or f"{name}=" in after


async def session_with_cookie_header(running: Running, header: str) -> Any:
    response = await running.browser().request("GET", "/api/session", headers={"Cookie": header})
    assert response.code == 200, (header, response.body)
    return body(response)
