"""What every handler shares: the session and its user, JSON in and out, the error shape."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
from collections.abc import Sequence
from http.client import responses
from typing import Any, cast, overload

import tornado.web
from tornado import httputil

from chatapp import schemas
from chatapp.app import ChatApp
from chatapp.errors import INTERNAL_ERROR, Answer, ApiError, answer_for, is_expected
from chatapp.logs import new_request_id
from chatapp.ratelimit import Budgets
from chatapp.schemas import Model
from chatapp.sessions.session import Session
from chatapp.social.models import User

log = logging.getLogger(__name__)

#: Default `code` for an HTTP status Tornado raised itself (no route, no method, XSRF).
HTTP_ERROR_CODES = {
    400: "bad_request",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
}
XSRF_FAILED = Answer(
    403,
    "xsrf_failed",
    "send the X-XSRFToken header equal to the _xsrf cookie (GET /api/session sets it)",
)


def coarse_address(address: str) -> str:
    """The network an address is in: its /24 (IPv4) or /48 (IPv6); "" if not an address."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return ""
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


class BaseHandler(tornado.web.RequestHandler):
    """JSON handlers with a lazily loaded session that is committed before the response leaves.

    `await self.load_session()` loads the session, and with it `current_user`
    (from the data layer: the session holds only the user's id); a handler
    that never calls it touches no store. At the end of the request the
    session is committed (what was written is saved, else the idle expiry
    renewed when due: one store write at most) and the cookie (re)issued or
    cleared, all before the response is sent, so the next request sees it.
    """

    application: ChatApp
    _session: Session | None = None
    _finishing: asyncio.Future[None] | None = None
    _cookie_values: dict[str, str] | None = None
    #: The id every log line of this request carries (chatapp.logs), sent back as a header.
    _request_id: str | None = None

    @overload
    def get_cookie(self, name: str, default: str) -> str: ...

    @overload
    def get_cookie(self, name: str, default: None = None) -> str | None: ...

    def get_cookie(self, name: str, default: str | None = None) -> str | None:
        """Tornado's get_cookie without its SimpleCookie: the same values (Tornado's own
        parser), a tenth of the cost of building a Morsel for every cookie sent."""
        if self._cookie_values is None:
            try:
                self._cookie_values = httputil.parse_cookie(self.request.headers.get("Cookie", ""))
            except Exception:  # as Tornado: an unparsable header sends no cookies
                self._cookie_values = {}
        return self._cookie_values.get(name, default)

    async def prepare(self) -> None:
        limit = self.application.config.server.max_message_size
        if len(self.request.body) > limit:
            raise ApiError(413, "too_large", f"the request body is larger than {limit} bytes")

    async def load_session(self) -> Session:
        if self._session is None:
            cookies = self.application.cookies
            session = await cookies.load(self.get_cookie(cookies.name))
            self._session = session
            self.current_user = await self.application.accounts.user(session.user_id)
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
        if self._request_id is None:  # once: this runs again when an error clears the answer
            self._request_id = new_request_id(self.request.headers.get("X-Request-ID"))
        self.set_header("X-Request-ID", self._request_id)

    def compute_etag(self) -> None:
        return None  # answers depend on the session; a 304 must never replay another's

    def body(self, model: type[Model]) -> Model:
        """The request body as this schema, or a 400 that says what is wrong."""
        return schemas.parse(model, schemas.json_object(self.request.body))

    def send_page(self, key: str, items: Sequence[Any], limit: int, **more: Any) -> None:
        """A page of items and the cursor of the next page (null after the last)."""
        self.send_json(
            {
                key: [item.public() for item in items],
                "next": items[-1].id if len(items) == limit else None,
                **more,
            }
        )

    def send_json(self, payload: dict[str, Any], status: int = 200) -> None:
        """Answer with this JSON; the response is finished after the method returns."""
        self.set_status(status)
        self.write(json.dumps(payload))

    # -- errors ---------------------------------------------------------------------

    def answer_for(self, status_code: int, exc: BaseException | None) -> Answer:
        """The answer for an error the request ended with (see chatapp.errors)."""
        if isinstance(exc, tornado.web.HTTPError):
            message = exc.log_message or ""
            if exc.args:
                message %= exc.args
            if status_code == 403 and "xsrf" in message.lower():
                return XSRF_FAILED
            code = HTTP_ERROR_CODES.get(status_code, "error")
            return Answer(status_code, code, message or responses.get(status_code, "error"))
        return answer_for(exc) if exc is not None else INTERNAL_ERROR

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        answer = self.answer_for(status_code, kwargs.get("exc_info", (None, None, None))[1])
        self.set_status(answer.status)
        for name, value in answer.headers.items():
            self.set_header(name, value)
        self.finish(answer.json())

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if isinstance(value, ApiError):
            return
        if value is not None and is_expected(value):
            log.warning("%s %s: %s", self.request.method, self.request.path, value)
            return
        super().log_exception(typ, value, tb)

    # -- the end of the request ----------------------------------------------------

    def finish(self, chunk: str | bytes | dict[str, Any] | None = None) -> asyncio.Future[None]:
        # Tornado calls finish() again after the method returns without awaiting the
        # first call; the commit in flight is that same finish.
        if self._finishing is not None:
            return self._finishing
        if self._session is None or self.get_status() >= 500:
            return super().finish(chunk)
        self._finishing = asyncio.ensure_future(self._commit_session_then_finish(chunk))
        return self._finishing

    async def _commit_session_then_finish(self, chunk: str | bytes | dict[str, Any] | None) -> None:
        session = cast(Session, self._session)
        try:
            await session.commit()
        except Exception as exc:
            if is_expected(exc):
                request = self.request
                log.warning("%s %s: session not saved: %s", request.method, request.path, exc)
            else:  # a bug: answer anyway rather than leave the client hanging
                log.exception("saving the session failed")
            answer = answer_for(exc)
            self.clear()
            self.set_status(answer.status)
            chunk = answer.json()
        self._write_session_headers(session)
        await super().finish(chunk)

    def _write_session_headers(self, session: Session) -> None:
        self.add_header("Vary", "Cookie")
        if session.user_id is not None:
            self.set_header("Cache-Control", "no-store")
        cookies = self.application.cookies
        attributes = cookies.cookie_attributes
        if session.ended:
            self.clear_cookie(cookies.name, **attributes)
        elif session.id_changed and session.record is not None and session.cookie_id:
            expires = session.record.deadline
            self.set_signed_cookie(cookies.name, session.cookie_id, expires=expires, **attributes)


class ApiHandler(BaseHandler):
    """API routes: the session and its user are loaded before the method runs."""

    current_user: User | None

    async def prepare(self) -> None:
        await super().prepare()
        await self.load_session()

    def device(self) -> dict[str, str]:
        """What a login remembers of where it came from: for the user's list of logins.

        The address is coarse (a /24 or /48 network): enough to tell "home"
        from "abroad", not enough to locate anyone.
        """
        agent = self.request.headers.get("User-Agent", "")[:256]
        return {"agent": agent, "address": coarse_address(self.request.remote_ip or "")}

    @property
    def me(self) -> User:
        """The logged-in user, or 401 (the API's `@authenticated`: no redirect)."""
        if self.current_user is None:
            raise ApiError(401, "unauthorized", "log in first")
        return self.current_user


class AuthoredItemHandler(ApiHandler):
    """PATCH `{"text"}` edits the caller's item, DELETE deletes it (204); a subclass names
    the item's JSON key, its text's schema, its write budget and how to change it."""

    key = "item"
    schema: type[schemas.NewText] | type[schemas.NewRoomText] = schemas.NewText

    def budget(self) -> Budgets:
        raise NotImplementedError

    async def change(self, me: User, text: str | None, *path: str) -> Any:
        """The item as it now stands; `text` None deletes it."""
        raise NotImplementedError

    async def patch(self, *path: str) -> None:
        me = self.me
        text = self.body(self.schema).text
        await self.budget().spend(me.id)
        item = await self.change(me, text, *path)
        self.send_json({self.key: item.public()})

    async def delete(self, *path: str) -> None:
        me = self.me
        await self.budget().spend(me.id)
        await self.change(me, None, *path)
        self.set_status(204)
