"""GET /metrics: Prometheus' text format, what the app records, and who may read it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from prometheus_client.parser import text_string_to_metric_families

from chatapp.backends import connect_redis
from chatapp.metrics import Metrics
from stores.errors import StoreUnavailable
from stores.redis import RedisSessionStore
from tests.apps import ServeApp, app_settings, leave
from tests.client import body
from tests.helpers import call

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples(text: str) -> Samples:
    """Every sample by name and labels, as Prometheus would read them."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(
    found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


async def test_requests_events_store_calls_sockets_and_fanouts_are_counted(
    serve_app: ServeApp,
) -> None:
    running = await serve_app(app_settings(session={"store": "memory"}))
    alice, bob = await running.login("alice"), await running.login("bob")
    await alice.request("POST", "/api/friends/bob")
    await bob.request("POST", "/api/friends/alice")
    tabs = [await running.socket(b) for b in (alice, bob, bob, bob)]
    assert (await alice.request("POST", "/api/posts", {"text": "hello"})).code == 201
    assert (await call(tabs[0], "session:get"))["ok"] is True
    assert (await call(tabs[0], "no:such:event"))["error"]["code"] == "unknown_event"
    scraped = await running.browser().request("GET", "/metrics")
    assert scraped.code == 200
    assert scraped.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    found = samples(scraped.body.decode())
    assert (
        value(
            found, "chatapp_http_requests_total", route="PostsHandler", method="POST", status="201"
        )
        == 1
    )
    assert value(found, "chatapp_http_request_duration_seconds_count", route="PostsHandler") == 1
    assert value(found, "chatapp_socket_events_total", event="session:get", outcome="ok") == 1
    assert (
        value(found, "chatapp_socket_events_total", event="unknown", outcome="unknown_event") == 1
    )
    assert value(found, "chatapp_session_store_duration_seconds_count", operation="load") >= 3
    assert value(found, "chatapp_sockets_connected") == 4
    # the post reached bob's three tabs in one push (the others went to fewer sockets)
    assert value(found, "chatapp_push_fanout_sockets_count") >= 1
    assert value(found, "chatapp_push_fanout_sockets_bucket", le="2.0") < value(
        found, "chatapp_push_fanout_sockets_count"
    )
    for tab in tabs:
        await leave(tab)


async def test_only_the_allowed_networks_may_read_them(serve_app: ServeApp) -> None:
    running = await serve_app(
        app_settings(session={"store": "memory"}, metrics={"allowed_networks": "10.0.0.0/8"})
    )
    refused = await running.browser().request("GET", "/metrics")
    assert refused.code == 403 and body(refused)["error"]["code"] == "forbidden"
    metrics = Metrics(["10.0.0.0/8", "::1/128"])
    assert metrics.allows("10.1.2.3") and metrics.allows("::1")
    assert not metrics.allows("127.0.0.1") and not metrics.allows("") and not metrics.allows(None)


async def test_a_store_that_does_not_answer_is_counted_as_an_error(
    closed_port_url: Callable[[str], str],
) -> None:
    metrics = Metrics()
    store = RedisSessionStore(
        connect_redis(closed_port_url("redis"), timeout=1), idle_timeout=60, absolute_timeout=600
    )
    store.observer = metrics.store_call
    with pytest.raises(StoreUnavailable):
        await store.load("some-session-id")
    await store.close()
    found = samples(metrics.exposition().decode())
    assert value(found, "chatapp_session_store_errors_total", operation="load") == 1
    assert value(found, "chatapp_session_store_duration_seconds_count", operation="load") == 1
