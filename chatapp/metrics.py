"""What an operator watches, in Prometheus' text format at GET /metrics.

One `Metrics` per app (its own prometheus-client registry, no global one): the
app records requests (by route, not by path: a path holds ids), socket events
by name and outcome, each session store call's latency and failures, and the
size of each push's fan-out; the number of connected sockets is read when
scraped. Labels are bounded: route names come from the URL table, event names
are the ones the namespace handles (anything else counts as `unknown`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

#: Seconds: from a store round trip on one host to a slow page.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)
#: Sockets one push is written to: a tab, a user's tabs, a room, a thousand friends.
FANOUT_BUCKETS = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 10000)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    def __init__(self, allowed_networks: Iterable[str] = ()) -> None:
        self.allowed = [ipaddress.ip_network(n, strict=False) for n in allowed_networks]
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.requests = Counter(
            "chatapp_http_requests",
            "HTTP requests answered, by route, method and status",
            ["route", "method", "status"],
            registry=registry,
        )
        self.request_seconds = Histogram(
            "chatapp_http_request_duration_seconds",
            "Time to answer an HTTP request, by route",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.events = Counter(
            "chatapp_socket_events",
            "Socket.IO events handled, by name and outcome (ok, or the error code)",
            ["event", "outcome"],
            registry=registry,
        )
        self.store_seconds = Histogram(
            "chatapp_session_store_duration_seconds",
            "Time of a session store call, by operation",
            ["operation"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.store_errors = Counter(
            "chatapp_session_store_errors",
            "Session store calls that got no answer (the store down or too slow)",
            ["operation"],
            registry=registry,
        )
        self.fanout = Histogram(
            "chatapp_push_fanout_sockets",
            "Sockets of this process one push was written to",
            buckets=FANOUT_BUCKETS,
            registry=registry,
        )
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}
        self.sockets = Gauge(
            "chatapp_sockets_connected",
            "Sockets connected to this process",
            registry=registry,
        )

    def count_sockets(self, count: Callable[[], int]) -> None:
        """Read the number of connected sockets at each scrape."""
        self.sockets.set_function(count)

    def request(self, route: str, method: str, status: int, seconds: float) -> None:
        self._child(self.requests, route, method, str(status)).inc()
        self._child(self.request_seconds, route).observe(seconds)

    def event(self, name: str, outcome: str) -> None:
        self._child(self.events, name, outcome).inc()

    def store_call(self, operation: str, seconds: float, failed: bool) -> None:
        """A stores.base.Observer."""
        self._child(self.store_seconds, operation).observe(seconds)
        if failed:
            self._child(self.store_errors, operation).inc()

    def _child(self, metric: Any, *labels: str) -> Any:
        """`metric.labels(*labels)`, looked up once: prometheus-client checks the labels
        on every call, half the cost of counting a socket event."""
        key = (id(metric), labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def pushed(self, sockets: int) -> None:
        self.fanout.observe(sockets)

    def allows(self, address: str | None) -> bool:
        """May a client at this address read the metrics?"""
        try:
            ip = ipaddress.ip_address(address or "")
        except ValueError:
            return False
        return any(ip in network for network in self.allowed)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
