"""GET /healthz: is this process able to serve, and which backing part fails if not."""

from __future__ import annotations

from handlers.base import BaseHandler


class HealthHandler(BaseHandler):
    """Never loads a session: probes and bots leave no trace in the store."""

    async def get(self) -> None:
        report = await self.application.health()
        self.send_json(report, 200 if report["status"] == "ok" else 503)
