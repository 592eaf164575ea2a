"""GET /healthz: is this process able to serve, and which backing part fails if not;
GET /bench/loop-lag when a benchmark asks for it."""

from __future__ import annotations

from handlers.base import BaseHandler


class HealthHandler(BaseHandler):
    """Never loads a session: probes and bots leave no trace in the store."""

    async def get(self) -> None:
        report = await self.application.health()
        self.send_json(report, 200 if report["status"] == "ok" else 503)


class LoopLagHandler(BaseHandler):
    """Routed only with `[bench] loop_lag` on: the IOLoop's lag samples since the last read."""

    def get(self) -> None:
        self.send_json({"samples_ms": self.application.loop_lag.take()})
