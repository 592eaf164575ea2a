"""GET /healthz: is this process able to serve, and which backing part fails if not;
GET /metrics for Prometheus; GET /bench/loop-lag when a benchmark asks for it."""

from __future__ import annotations

from chatapp.errors import ApiError
from chatapp.metrics import CONTENT_TYPE
from handlers.base import BaseHandler


class HealthHandler(BaseHandler):
    """Never loads a session: probes and bots leave no trace in the store."""

    async def get(self) -> None:
        report = await self.application.health()
        self.send_json(report, 200 if report["status"] == "ok" else 503)


class MetricsHandler(BaseHandler):
    """Prometheus' text format, to the networks `[metrics] allowed_networks` names (behind
    a proxy, by the forwarded address); 403 to anyone else. Never loads a session."""

    def get(self) -> None:
        metrics = self.application.metrics
        if not metrics.allows(self.request.remote_ip):
            raise ApiError(403, "forbidden", "metrics are for the monitoring network only")
        self.set_header("Content-Type", CONTENT_TYPE)
        self.set_header("Cache-Control", "no-store")
        self.finish(metrics.exposition())


class LoopLagHandler(BaseHandler):
    """Routed only with `[bench] loop_lag` on: the IOLoop's lag samples since the last read."""

    def get(self) -> None:
        self.send_json({"samples_ms": self.application.loop_lag.take()})
