"""The browser pages: server-rendered shells that the page scripts fill from the API.

The theme comes from the session (`prefs`), so a theme set over the socket
shows on the next page load: the visible proof that a socket wrote the HTTP
session. Every page sends a Content-Security-Policy that allows no inline
script or style: user text can only ever be text.
"""

from __future__ import annotations

from typing import Any

import tornado.web

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


class PageHandler(BaseHandler):
    """Renders `template` for the logged-in user; anonymous visitors go to /login."""

    template = ""
    title = "chatapp"

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.set_header("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Referrer-Policy", "same-origin")

    async def prepare(self) -> None:
        await super().prepare()
        await self.load_session()

    @tornado.web.authenticated
    def get(self, *args: str) -> None:
        self.render_page(*args)

    def render_page(self, *args: str) -> None:
        self.xsrf_token  # noqa: B018  (sets the _xsrf cookie the scripts send back)
        self.render(
            self.template,
            user=self.current_user,
            theme=prefs_of(self.session)["theme"],
            title=self.title,
            page=self.template.removesuffix(".html"),
            subject=args[0] if args else "",
        )

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        answer = self.answer_for(status_code, kwargs.get("exc_info", (None, None, None))[1])
        self.set_status(answer.status)
        self.set_header("Content-Type", "text/plain; charset=UTF-8")
        self.finish(f"{answer.status}: this page could not be shown; try again soon")


class AnonymousPage(PageHandler):
    """Login and sign-up: a logged-in visitor goes to the feed instead."""

    def get(self, *args: str) -> None:
        if self.current_user is not None:
            self.redirect("/")
            return
        self.render_page(*args)


class FeedPage(PageHandler):
    template, title = "feed.html", "Feed"


class FriendsPage(PageHandler):
    template, title = "friends.html", "Friends"


class MessagesPage(PageHandler):
    template, title = "messages.html", "Messages"


class NotificationsPage(PageHandler):
    template, title = "notifications.html", "Notifications"


class SettingsPage(PageHandler):
    template, title = "settings.html", "Settings"


class LoginPage(AnonymousPage):
    template, title = "login.html", "Log in"


class SignupPage(AnonymousPage):
    template, title = "signup.html", "Sign up"
