"""The Tornado Application: the one object that holds chatapp's shared services.

Handlers reach the settings, the session store and the cookie rules through
`self.application`; nothing lives in module globals. The URL table comes from
`handlers`, which builds the app (chatapp never imports handlers).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import tornado.web
from tornado.ioloop import PeriodicCallback

from chatapp.backends import build_session_store, open_session_store, store_setting
from chatapp.cookie_secret import resolve_cookie_secret
from chatapp.session import SessionCookies
from chatapp.settings import Settings
from stores.base import SessionStore
from stores.errors import StoreUnavailable

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent


class ChatApp(tornado.web.Application):
    def __init__(
        self,
        config: Settings,
        routes: list[Any],
        *,
        store: SessionStore | None = None,
        **tornado_settings: Any,
    ) -> None:
        self.config = config
        secret = resolve_cookie_secret(
            config.server.cookie_secret, config.server.cookie_secret_file
        )
        self.store = store if store is not None else build_session_store(config)
        self.cookies = SessionCookies(
            self.store,
            secret=secret,
            secure=config.server.secure_cookies,
            touch_interval=config.session.touch_interval,
        )
        self._sweeper: PeriodicCallback | None = None
        super().__init__(
            routes,
            cookie_secret=secret,
            xsrf_cookies=True,
            xsrf_cookie_kwargs={
                "samesite": "Lax",
                "path": "/",
                "secure": config.server.secure_cookies,
            },
            template_path=str(ROOT / "templates"),
            static_path=str(ROOT / "static"),
            **tornado_settings,
        )

    async def start(self) -> None:
        """Check the backing servers answer and prepare them; BackendUnavailable otherwise."""
        await open_session_store(self.store, self.config)
        self._sweeper = PeriodicCallback(self._sweep, self.config.session.sweep_interval * 1000)
        self._sweeper.start()

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.stop()
        await self.store.close()

    async def health(self) -> dict[str, Any]:
        """What /healthz reports: each backing part, and which ones fail."""
        report: dict[str, Any] = {"status": "ok", "session_store": self.store.name}
        try:
            await asyncio.wait_for(self.store.ping(), timeout=self.config.redis.timeout + 3)
        except (StoreUnavailable, TimeoutError) as exc:
            key, where = store_setting(self.config)
            message = f"session store ({key} {where}) is unavailable: {exc or 'timed out'}"
            log.warning("healthz: %s", message)
            report.update(
                status="unavailable",
                failing=["session_store"],
                error={"code": "backend_unavailable", "message": message},
            )
        return report

    async def _sweep(self) -> None:
        try:
            removed = await self.store.sweep()
        except Exception:
            log.exception("session sweep failed; will try again")
            return
        if removed:
            log.info("session sweep removed %d expired sessions", removed)
