"""The browser pages: server-rendered shells that the page scripts fill from the API.

The theme comes from the session (`prefs`), so a theme set over the socket
shows on the next page load: the visible proof that a socket wrote the HTTP
session. Every page sends a Content-Security-Policy that allows no inline
script or style: user text can only ever be text.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import tornado.web

from chatapp.errors import ApiError
from chatapp.sessions.prefs import prefs_of
from handlers.base import BaseHandler

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def set_page_headers(handler: BaseHandler) -> None:
    """HTML with a strict Content-Security-Policy: user text can only ever be text."""
    handler.set_header("Content-Type", "text/html; charset=UTF-8")
    handler.set_header("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    handler.set_header("X-Content-Type-Options", "nosniff")
    handler.set_header("Referrer-Policy", "same-origin")


class PageHandler(BaseHandler):
    """Renders `template` for the logged-in user; anonymous visitors go to /login."""

    template = ""
    title = "chatapp"

    def set_default_headers(self) -> None:
        set_page_headers(self)

    async def prepare(self) -> None:
        await super().prepare()
        await self.load_session()

    @tornado.web.authenticated
    def get(self, *args: str) -> None:
        self.render_page(*args)

    def render_page(self, *args: str, template: str = "", **extra: Any) -> None:
        """The page's template with what base.html needs; `extra` for the template itself."""
        self.xsrf_token  # noqa: B018  (sets the _xsrf cookie the scripts send back)
        template = template or self.template
        self.render(
            template,
            user=self.current_user,
            theme=prefs_of(self.session)["theme"],
            title=self.title,
            page=template.removesuffix(".html"),
            subject=args[0] if args else "",
            **extra,
        )

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        answer = self.answer_for(status_code, kwargs.get("exc_info", (None, None, None))[1])
        self.set_status(answer.status)
        if answer.status == 404:
            self.title = "Not found"
            self.render_page(template="notfound.html")
            return
        self.set_header("Content-Type", "text/plain; charset=UTF-8")
        self.finish(f"{answer.status}: this page could not be shown; try again soon")


class FeedPage(PageHandler):
    template, title = "feed.html", "Feed"


class FriendsPage(PageHandler):
    template, title = "friends.html", "Friends"


class ConversationsPage(PageHandler):
    template, title = "conversations.html", "Messages"


class ChatPage(PageHandler):
    """A conversation, headed by the friend's display name (an unknown user: 404 page)."""

    template, title = "chat.html", "Messages"

    @tornado.web.authenticated
    async def get(self, username: str) -> None:
        partner = await self.application.social.someone(username)
        self.title = partner.display_name
        self.render_page(username, partner=partner)


class RoomsPage(PageHandler):
    template, title = "rooms.html", "Rooms"


class RoomPage(PageHandler):
    """A room, for its members (anyone else, a room that is not there: the 404 page)."""

    template, title = "room.html", "Rooms"

    @tornado.web.authenticated
    async def get(self, room_id: str) -> None:
        assert self.current_user is not None
        room = await self.application.rooms.visible(self.current_user, room_id)
        self.title = room.name
        self.render_page(room_id, room=room)


class PostPage(PageHandler):
    """One post with its comments: where a post's notification leads."""

    template, title = "post.html", "Post"


class NotificationsPage(PageHandler):
    template, title = "notifications.html", "Notifications"


class SettingsPage(PageHandler):
    template, title = "settings.html", "Settings"


#: Why a page was sent to /login (`?ended=` the reason of its `session:ended`).
ENDED_NOTICES = {
    "expired": "Your session expired after a while without activity. Log in again to go on.",
    "revoked": "You were signed out from another device.",
    "password_changed": "Your password was changed on another device. Log in with the new one.",
    "logout": "You logged out in another tab.",
    "regenerated": "You logged in again in another tab.",
}


def local_path(target: str | None) -> str:
    """`?next=` as a path on this site, or "/": never another origin (`//host`, `/\\host`,
    `https://...`), so a crafted login link cannot send anyone elsewhere."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    if any(ord(char) < 0x20 for char in target):
        return "/"
    return target


class AuthPage(PageHandler):
    """Login and sign-up: where to go after (`?next=`, where a logged-in visitor goes at
    once), and why the last session ended (`?ended=`)."""

    def get(self, *args: str) -> None:
        if self.current_user is not None:
            self.redirect(local_path(self.get_query_argument("next", None)))
            return
        self.render_page(*args)

    def render_page(self, *args: str, template: str = "", **extra: Any) -> None:
        super().render_page(
            *args,
            template=template,
            demo=self.application.demo_logins,
            next_path=local_path(self.get_query_argument("next", None)),
            notice=ENDED_NOTICES.get(self.get_query_argument("ended", "")),
            **extra,
        )


class LoginPage(AuthPage):
    template, title = "login.html", "Log in"


class SignupPage(AuthPage):
    template, title = "signup.html", "Sign up"


class NotFoundHandler(PageHandler):
    """Unknown paths: an HTML page for a browser, the JSON error shape for anything else.

    `/api/` always answers JSON; elsewhere a request whose Accept names text/html
    (a browser following a link) gets a page with the header and a way back.
    """

    template, title = "notfound.html", "Not found"

    @cached_property
    def as_json(self) -> bool:
        request = self.request
        wants_page = "text/html" in request.headers.get("Accept", "")
        api = request.path == "/api" or request.path.startswith("/api/")
        return api or not wants_page or request.method not in ("GET", "HEAD")

    def set_default_headers(self) -> None:
        """Also after an error clears the headers: JSON, not a page, where JSON is due."""
        if self.as_json:
            BaseHandler.set_default_headers(self)
        else:
            super().set_default_headers()

    async def prepare(self) -> None:
        if self.as_json:
            raise ApiError(404, "not_found", f"no such resource: {self.request.path}")
        await super().prepare()

    def get(self, *args: str) -> None:
        raise ApiError(404, "not_found", f"no such page: {self.request.path}")

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        if self.as_json:
            BaseHandler.write_error(self, status_code, **kwargs)
        else:
            super().write_error(status_code, **kwargs)
