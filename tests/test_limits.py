"""Write budgets: per user over both transports, per address for new anonymous sessions.

The defaults are in chatapp.settings.LimitSettings; these tests set small ones.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from tornado.httpclient import HTTPResponse

from chatapp.backends import connect_redis
from chatapp.errors import ApiError, ServiceUnavailable
from chatapp.ratelimit import budgets_in
from tests.apps import Cluster, Running, ServeApp, app_settings, leave, unique
from tests.client import Browser, body
from tests.helpers import call


@pytest.fixture
async def running(serve_app: ServeApp) -> Running:
    limits = {
        "anonymous_sessions_per_minute": 3,
        "friend_actions_per_minute": 5,
        "posts_per_minute": 2,
        "comments_per_minute": 2,
        "messages_per_minute": 2,
    }
    return await serve_app(
        app_settings(session={"store": "memory"}, server={"behind_proxy": True}, limits=limits)
    )


def assert_limited(response: HTTPResponse) -> None:
    assert response.code == 429, response.body
    assert body(response)["error"]["code"] == "rate_limited"
    assert int(response.headers["Retry-After"]) >= 1


async def test_one_address_may_start_only_so_many_anonymous_sessions(running: Running) -> None:
    """Before: one client stored about 550 sessions a second through anonymous prefs."""

    async def prefs(browser: Browser, address: str) -> HTTPResponse:
        headers = {"X-Forwarded-For": address}
        return await browser.request("PUT", "/api/prefs", {"theme": "dark"}, headers=headers)

    first = running.browser()
    for browser in (first, running.browser(), running.browser()):
        assert (await prefs(browser, "203.0.113.7")).code == 200
    assert_limited(await prefs(running.browser(), "203.0.113.7"))
    assert len(running.store) == 3  # type: ignore[arg-type]  # nothing stored for the refusal
    assert (await prefs(first, "203.0.113.7")).code == 200  # not new: no budget spent
    assert (await prefs(running.browser(), "198.51.100.1")).code == 200


async def test_friend_request_churn_is_limited(running: Running) -> None:
    """Before: 200 send-and-cancel cycles in 1.2 s left the victim 200 notifications."""
    dave, carol = await running.member("dave"), await running.member("carol")
    answers = []
    for _ in range(10):
        answers.append((await dave.request("POST", "/api/friends/carol")).code)
        answers.append((await dave.request("DELETE", "/api/friends/carol")).code)
    assert answers[:5] == [200, 204, 200, 204, 200]
    assert set(answers[5:]) == {429}
    assert_limited(await dave.request("POST", "/api/friends/carol"))
    assert body(await carol.request("GET", "/api/notifications"))["unread"] <= 3


async def test_posts_comments_and_messages_are_limited_over_both_transports(
    running: Running,
) -> None:
    alice, bob = await running.member("alice"), await running.member("bob")
    await alice.request("POST", "/api/friends/bob")
    await bob.request("POST", "/api/friends/alice")
    posts = [await alice.request("POST", "/api/posts", {"text": f"p{n}"}) for n in range(3)]
    assert [p.code for p in posts[:2]] == [201, 201]
    assert_limited(posts[2])
    post_id = body(posts[0])["post"]["id"]
    path = f"/api/posts/{post_id}/comments"
    comments = [await bob.request("POST", path, {"text": f"c{n}"}) for n in range(3)]
    assert [c.code for c in comments[:2]] == [201, 201]
    assert_limited(comments[2])
    tab = await running.socket(alice)
    acks = [await call(tab, "chat:send", {"to": "bob", "text": f"m{n}"}) for n in range(3)]
    assert [a["ok"] for a in acks] == [True, True, False]
    assert acks[2]["error"]["code"] == "rate_limited"
    assert tab.connected  # refused, not dropped
    await leave(tab)


async def test_one_address_may_open_only_so_many_connections_and_is_logged_once(
    serve_app: ServeApp, caplog: pytest.LogCaptureFixture
) -> None:
    """Before: a client connecting and leaving in a loop held a core with handshakes."""
    running = await serve_app(
        app_settings(
            session={"store": "memory"},
            server={"behind_proxy": True},
            limits={"socket_connections_per_minute": 60},  # 1 a second, 2 at once
        )
    )
    url = running.url + "/socket.io/?EIO=4&transport=polling"

    async def handshake(address: str) -> HTTPResponse:
        return await running.browser().request(
            "GET", url[len(running.url) :], headers={"X-Forwarded-For": address}
        )

    assert [(await handshake("203.0.113.7")).code for _ in range(2)] == [200, 200]
    for _ in range(10):
        assert_limited(await handshake("203.0.113.7"))
    assert (await handshake("198.51.100.1")).code == 200  # another address: its own budget
    refusals = [r for r in caplog.records if r.name == "tornado.access" and "429" in r.message]
    assert len(refusals) == 1, [r.message for r in refusals]  # a flood does not flood the log


async def test_a_users_budget_holds_across_processes(cluster: Cluster) -> None:
    """Before: each process counted its own, so N processes allowed N times the limit."""
    a, b = await cluster()
    name = unique("alice")
    on_a = await a.login(name)
    on_b = b.browser_with(on_a)
    limit = a.app.config.limits.posts_per_minute
    for n in range(limit):
        writer = on_a if n % 2 else on_b
        assert (await writer.request("POST", "/api/posts", {"text": f"post {n}"})).code == 201
    for writer in (on_a, on_b):
        assert_limited(await writer.request("POST", "/api/posts", {"text": "one too many"}))


async def test_budgets_kept_in_a_redis_that_does_not_answer_refuse_with_503(
    closed_port_url: Callable[[str], str],
) -> None:
    down = budgets_in(connect_redis(closed_port_url("redis"), timeout=1))("posts", 5, 5)
    with pytest.raises(ServiceUnavailable):
        await down.spend("alice")


@pytest.mark.parametrize("shared", [False, True])
async def test_a_budget_refuses_past_its_limit_per_key(shared: bool, redis_url: str) -> None:
    redis = connect_redis(redis_url, timeout=1) if shared else None
    here = budgets_in(redis, f"t{uuid.uuid4().hex[:8]}:")("posts", 2, 2)
    await here.spend("alice")
    await here.spend("alice")
    with pytest.raises(ApiError) as refused:
        await here.spend("alice")
    assert refused.value.answer.status == 429
    assert 1 <= int(refused.value.answer.headers["Retry-After"]) <= 60
    await here.spend("bob")  # per key
