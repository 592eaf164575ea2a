"""What every handler shares: the session, JSON in and out, and the error shape."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from http.client import responses
from typing import Any, cast

import tornado.web

from chatapp.accounts.service import ThrottledLogin
from chatapp.app import ChatApp
from chatapp.errors import ApiError
from chatapp.sessions.session import COOKIE_NAME, Session
from chatapp.social.models import User
from stores.errors import SessionConflict, SessionGone, StoreUnavailable

log = logging.getLogger(__name__)

#: Default `code` for an error status when the handler gave none.
ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    429: "throttled",
    503: "backend_unavailable",
}


class BaseHandler(tornado.web.RequestHandler):
    """JSON handlers with a lazily loaded session that is saved before the response leaves.

    `await self.load_session()` loads the session on first use; a handler that
    never calls it touches no store. At the end of the request the changed
    keys are saved, the cookie is (re)issued or cleared, and the idle expiry
    renewed (throttled): all before the response is sent, so the client's
    next request sees the write.
    """

    application: ChatApp
    _session: Session | None = None
    _finishing: asyncio.Future[None] | None = None

    async def prepare(self) -> None:
        limit = self.application.config.server.max_message_size
        if len(self.request.body) > limit:
            raise ApiError(413, "too_large", f"the request body is larger than {limit} bytes")

    async def load_session(self) -> Session:
        if self._session is None:
            self._session = await self.application.cookies.load(self.get_cookie(COOKIE_NAME))
        return self._session

    @property
    def session(self) -> Session:
        """The session, once `load_session` was awaited (API handlers do it in prepare)."""
        if self._session is None:
            raise RuntimeError("await self.load_session() before using self.session")
        return self._session

    # -- JSON -----------------------------------------------------------------------

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.set_header("X-Content-Type-Options", "nosniff")

    def compute_etag(self) -> None:
        return None  # answers depend on the session; a 304 must never replay another's

    def json_body(self) -> dict[str, Any]:
        """The request body as a JSON object, or a 400 that says what is wrong."""
        if not self.request.body:
            return {}
        try:
            body = json.loads(self.request.body)
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "invalid_json", "the request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise ApiError(400, "invalid_json", "the request body must be a JSON object")
        return body

    def send_page(self, key: str, items: Sequence[Any], limit: int) -> None:
        """A page of items and the cursor of the next page (null after the last)."""
        self.send_json(
            {
                key: [item.public() for item in items],
                "next": items[-1].id if len(items) == limit else None,
            }
        )

    def send_json(self, payload: dict[str, Any], status: int = 200) -> None:
        """Answer with this JSON; the response is finished after the method returns."""
        self.set_status(status)
        self.write(json.dumps(payload))

    # -- errors ---------------------------------------------------------------------

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        code = ERROR_CODES.get(status_code, "error")
        message = responses.get(status_code, "error")
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, ApiError):
            self.set_status(exc.status)
            code, message = exc.code, exc.message
            if isinstance(exc, ThrottledLogin):
                self.set_header("Retry-After", str(exc.retry_after))
        elif isinstance(exc, StoreUnavailable):
            self.set_status(503)
            code, message = "backend_unavailable", "a backing server is unavailable; try again soon"
        elif isinstance(exc, tornado.web.HTTPError) and exc.log_message:
            message = exc.log_message % exc.args if exc.args else exc.log_message
            if status_code == 403 and "xsrf" in message.lower():
                code = "xsrf_failed"
                message = (
                    "send the X-XSRFToken header equal to the _xsrf cookie "
                    "(GET /api/session sets it)"
                )
        self.finish(json.dumps({"error": {"code": code, "message": message}}))

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if isinstance(value, ApiError):
            return
        if isinstance(value, StoreUnavailable):
            log.warning("%s %s: %s", self.request.method, self.request.path, value)
            return
        super().log_exception(typ, value, tb)

    # -- the end of the request ----------------------------------------------------

    def finish(self, chunk: str | bytes | dict[str, Any] | None = None) -> asyncio.Future[None]:
        # Tornado calls finish() again after the method returns without awaiting the
        # first call; the save in flight is that same finish.
        if self._finishing is not None:
            return self._finishing
        if self._session is None or self.get_status() >= 500:
            return super().finish(chunk)
        self._finishing = asyncio.ensure_future(self._save_session_then_finish(chunk))
        return self._finishing

    async def _save_session_then_finish(self, chunk: str | bytes | dict[str, Any] | None) -> None:
        session = cast(Session, self._session)
        try:
            await session.save()
            await session.renew_if_due(self.application.cookies.touch_interval)
        except (SessionConflict, SessionGone, StoreUnavailable) as exc:
            chunk = self._replace_with_error(exc)
        except Exception as exc:  # a bug: answer anyway rather than leave the client hanging
            log.exception("saving the session failed")
            chunk = self._replace_with_error(exc)
        self._write_session_headers(session)
        await super().finish(chunk)

    def _replace_with_error(self, exc: Exception) -> str:
        self.clear()
        if isinstance(exc, SessionConflict):
            status, code, message = (
                409,
                "session_conflict",
                ("another request changed this session at the same time; try again"),
            )
        elif isinstance(exc, SessionGone):
            status, code, message = 401, "session_ended", "the session ended during this request"
        elif not isinstance(exc, StoreUnavailable):
            status, code, message = 500, "internal_error", "the session could not be saved"
        else:
            log.warning("%s %s: session not saved: %s", self.request.method, self.request.path, exc)
            status, code, message = (
                503,
                "backend_unavailable",
                ("the session store is unavailable; try again soon"),
            )
        self.set_status(status)
        return json.dumps({"error": {"code": code, "message": message}})

    def _write_session_headers(self, session: Session) -> None:
        self.add_header("Vary", "Cookie")
        if session.user_id is not None:
            self.set_header("Cache-Control", "no-store")
        attributes = self.application.cookies.cookie_attributes
        if session.ended:
            self.clear_cookie(COOKIE_NAME, **attributes)
        elif session.id_changed and session.record is not None:
            record = session.record
            self.set_signed_cookie(COOKIE_NAME, record.id, expires=record.deadline, **attributes)


class ApiHandler(BaseHandler):
    """API routes: the session is loaded before the method runs."""

    async def prepare(self) -> None:
        await super().prepare()
        await self.load_session()

    def require_user(self) -> User:
        """The logged-in user, or 401."""
        user = User.from_public(self.session.get("user")) if self.session.user_id else None
        if user is None:
            raise ApiError(401, "unauthorized", "log in first")
        return user

    async def log_in(self, user: User) -> None:
        """Bind the user to the session under a new id: an id known before login is worthless."""
        self.session["user_id"] = user.id
        self.session["user"] = user.public()
        await self.session.regenerate()


class NotFoundHandler(BaseHandler):
    """Unknown paths answer 404 in the error shape."""

    async def prepare(self) -> None:
        raise ApiError(404, "not_found", f"no such resource: {self.request.path}")
