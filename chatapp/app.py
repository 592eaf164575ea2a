"""The Tornado Application: the one object that holds chatapp's shared services.

Handlers reach the settings, the session store and the cookie rules through
`self.application`; nothing lives in module globals. The URL table comes from
`handlers`, which builds the app (chatapp never imports handlers).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
import tornado.web
from tornado import httputil
from tornado.ioloop import PeriodicCallback
from tornado.log import access_log

from chatapp import upstream
from chatapp.accounts.passwords import build_passwords
from chatapp.accounts.redis_throttle import RedisThrottle
from chatapp.accounts.service import Accounts
from chatapp.accounts.throttle import LoginThrottle, MemoryThrottle
from chatapp.accounts.user_cache import UserCache
from chatapp.backends import (
    build_database,
    build_session_store,
    connect_redis,
    open_database,
    open_session_store,
    redacted,
    store_setting,
)
from chatapp.body_limit import DRAIN_FACTOR, BodyLimit
from chatapp.errors import BackendUnavailable, ServiceUnavailable
from chatapp.health import Health, Probe
from chatapp.loop_lag import LoopLag
from chatapp.metrics import Metrics
from chatapp.ratelimit import LogOnce, WriteLimits, budgets_in
from chatapp.realtime.admin import AdminUI
from chatapp.realtime.origins import OriginPolicy
from chatapp.realtime.registry import Directory
from chatapp.realtime.server import build_realtime
from chatapp.services.rooms import Rooms
from chatapp.services.social import Social
from chatapp.sessions.cookie_secret import check_previous_secrets, resolve_cookie_secret
from chatapp.sessions.cookies import SessionCookies
from chatapp.sessions.logins import Logins
from chatapp.settings import Settings
from chatapp.transport import handshake_of
from stores.base import SessionStore
from stores.errors import StoreUnavailable

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent
_SID = re.compile(r"([?&]sid=)[^&]*")


def shared_redis(config: Settings) -> aioredis.Redis | None:
    """The Redis every process shares, if there is one (the session store's, else the
    message queue's): where the login throttle and the write budgets count."""
    url = config.redis.url if config.session.store == "redis" else config.socketio.message_queue
    return connect_redis(url, config.redis.timeout) if url else None


def build_login_throttle(redis: aioredis.Redis | None, config: Settings) -> LoginThrottle:
    """In the shared Redis, so every process counts every failure; else in memory."""
    return MemoryThrottle() if redis is None else RedisThrottle(redis, config.redis.prefix)


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
        # The demo logins the login page names: set by `run.py --demo`, empty otherwise.
        self.demo_logins: tuple[str, ...] = ()
        secret = resolve_cookie_secret(
            config.server.cookie_secret, config.server.cookie_secret_file
        )
        previous = check_previous_secrets(config.server.previous_cookie_secrets)
        self.store = store if store is not None else build_session_store(config)
        self.origins = OriginPolicy(config.socketio.allowed_origins)
        self.db = build_database(config)
        # Exact only where every rename passes through this process (chatapp.accounts.user_cache).
        users = UserCache(self.db, enabled=not config.socketio.message_queue)
        directory = Directory(
            audience=self.db.friend_ids,  # presence goes to friends
            profile=users.profile,
            memberships=self.db.room_ids,  # a socket joins its rooms at connect
        )
        for problem in upstream.mismatches():  # chatapp.upstream: what its reaches assume
            log.warning("upstream: %s", problem)
        self.metrics = Metrics(config.metrics.allowed_networks)
        self.store.observer = self.metrics.store_call
        self.sockets = build_realtime(
            config, self.origins, self.store, directory, pushed=self.metrics.pushed
        )
        self.sio = self.sockets.sio
        self.metrics.count_sockets(lambda: len(self.sio.eio.sockets))
        shared = shared_redis(config)
        self.accounts = Accounts(
            self.db,
            passwords=build_passwords(config.accounts),
            users=users,
            throttle=build_login_throttle(shared, config),
        )
        self.social = Social(self.db, self.sockets, users)
        self.rooms = Rooms(self.db, self.sockets)
        self.limits = WriteLimits(config.limits, budgets_in(shared, config.redis.prefix))
        self._refusals_logged = LogOnce()
        self.cookies = SessionCookies(
            self.store,
            secret=secret,
            previous_secrets=previous,
            secure=config.server.secure_cookies,
            touch_interval=config.session.touch_interval,
            sockets=self.sockets,
        )
        self.logins = Logins(
            self.cookies, self.sockets.session_socket_count, self.sockets.logins_changed
        )
        self.admin = (
            AdminUI(self.sio, config.admin, self._admin_login) if config.admin.users else None
        )
        self.backends = self._health_probes()
        self._timers: list[PeriodicCallback] = []
        self.loop_lag = LoopLag()
        super().__init__(
            routes,
            cookie_secret=self.cookies.keys,  # by key version: cookies name the key that signed
            key_version=self.cookies.key_version,
            login_url="/login",
            xsrf_cookies=True,
            xsrf_cookie_kwargs={
                "samesite": "Lax",
                "path": "/",
                "secure": config.server.secure_cookies,
            },
            template_path=str(ROOT / "templates"),
            static_path=str(ROOT / "static"),
            websocket_max_message_size=config.socketio.max_message_size,
            **tornado_settings,
        )

    def log_request(self, handler: tornado.web.RequestHandler) -> None:
        """Tornado's access log line, with any engine.io `sid` (a bearer token) masked;
        with `[server] access_log` off, only for errors. A rate limit's refusals (429)
        are logged once a minute per address, with how many were left out."""
        status = handler.get_status()
        request = handler.request
        route = type(handler).__name__  # one per URL pattern: ids in paths make no labels
        self.metrics.request(route, request.method or "", status, request.request_time())
        if status < 400 and not self.config.server.access_log:
            return
        note = ""
        if status == 429:
            left_out = self._refusals_logged.due(request.remote_ip or "")
            if left_out is None:
                return
            note = f" (and {left_out} more 429s in the last minute)" if left_out else ""
        level = logging.INFO if status < 400 else logging.WARNING if status < 500 else logging.ERROR
        uri = request.uri or ""
        if "sid=" in uri:
            uri = _SID.sub(r"\1***", uri)
        access_log.log(
            level,
            "%d %s %s (%s) %.2fms%s",
            status,
            request.method,
            uri,
            request.remote_ip,
            1000.0 * request.request_time(),
            note,
        )

    def server_options(self) -> dict[str, Any]:
        """Options for the HTTPServer that serves this app."""
        return {
            "xheaders": self.config.server.behind_proxy,
            # Tornado answers a bare 400 and closes past its limit: BodyLimit keeps
            # the real one and answers 413 (see chatapp.body_limit).
            "max_body_size": self.body_limit * DRAIN_FACTOR,
        }

    @property
    def body_limit(self) -> int:
        """Bodies up to this reach the handlers, which refuse what is over
        max_message_size in their own words; past it, BodyLimit answers 413."""
        return 4 * self.config.server.max_message_size

    def start_request(
        self, server_conn: object, request_conn: httputil.HTTPConnection
    ) -> httputil.HTTPMessageDelegate:
        return BodyLimit(
            super().start_request(server_conn, request_conn), request_conn, self.body_limit
        )

    async def start(self) -> None:
        """Check the backing servers answer and prepare them; BackendUnavailable otherwise."""
        await open_session_store(self.store, self.config)
        await open_database(self.db, self.config)
        try:
            await self.sockets.start()
        except ServiceUnavailable as exc:
            queue = redacted(self.config.socketio.message_queue)
            raise BackendUnavailable("[socketio] message_queue", queue, str(exc)) from None
        for task, interval in (
            (self._sweep, self.config.session.sweep_interval),
            (self._end_stray_sockets, self.config.socketio.session_check_interval),
        ):
            timer = PeriodicCallback(task, interval * 1000)
            timer.start()
            self._timers.append(timer)
        if self.config.bench.loop_lag:
            self.loop_lag.start()

    async def stop(self, grace: float = 1.0) -> None:
        """Close sockets (their clients reconnect elsewhere), then every backend connection.

        `grace` bounds the wait for each socket's close to be handed over.
        """
        for timer in self._timers:
            timer.stop()
        self.loop_lag.stop()
        # Sockets first, while the store and database can still record their going.
        self.backends.close()
        await self.sockets.close_all(within=grace)
        if self.admin is not None:
            await self.admin.stop()
        await self.sio.shutdown()
        await self.sockets.stop()
        await self.store.close()
        await self.accounts.throttle.close()
        self.accounts.passwords.close()
        await self.db.close()

    async def _admin_login(self, environ: dict[str, Any]) -> tuple[str, str] | None:
        """The session id and username of a socket's login, if `[admin] users` names it."""
        session = await self.cookies.load(handshake_of(environ).cookie(self.cookies.name))
        if session.user_id is None or session.id is None:
            return None
        user = await self.accounts.user(session.user_id)
        if user is None or user.username not in self.config.admin.users:
            return None
        return session.id, user.username

    def _health_probes(self) -> Health:
        probes = [
            Probe("session_store", self.store.ping, " ".join(store_setting(self.config))),
            Probe("database", self.db.ping, f"[database] url {redacted(self.config.database.url)}"),
        ]
        queue = self.config.socketio.message_queue
        if queue:
            where = f"[socketio] message_queue {redacted(queue)}"
            probes.append(Probe("message_queue", self.sockets.presence.ping, where))
        return Health(probes)

    async def health(self) -> dict[str, Any]:
        """What /healthz reports, within about 50 ms: each backing part, and which fail."""
        failing = await self.backends.report()
        report: dict[str, Any] = {"status": "ok", "session_store": self.store.name}
        if failing:
            report.update(
                status="unavailable",
                failing=list(failing),
                error={"code": "backend_unavailable", "message": "; ".join(failing.values())},
            )
        return report

    async def _end_stray_sockets(self) -> None:
        try:
            ended = await self.sockets.end_stray_sockets()
        except StoreUnavailable as exc:
            log.warning("socket session check skipped: %s", exc)
            return
        if ended:
            log.info("ended %d sockets whose session had ended unheard", ended)

    async def _sweep(self) -> None:
        try:
            removed = await self.store.sweep()
        except Exception:
            log.exception("session sweep failed; will try again")
            return
        if removed:
            log.info("session sweep removed %d expired sessions", removed)
