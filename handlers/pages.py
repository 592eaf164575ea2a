"""The browser pages: server-rendered shells that the page scripts fill from the API.

The theme comes from the session (`prefs`), so a theme set over the socket
shows on the next page load: the visible proof that a socket wrote the HTTP
session. Every page sends a Content-Security-Policy that allows no inline
script or style: user text can only ever be text.
"""

from __future__ import annotations

from typing import Any

from chatapp.sessions.prefs import prefs_of
from chatapp.social.models import User
from handlers.base import BaseHandler
from stores.errors import StoreUnavailable

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
    """Renders `template`; pages that need a login send anonymous visitors to /login."""

    template = ""
    needs_login = True
    title = "chatapp"

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.set_header("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Referrer-Policy", "same-origin")

    async def get(self, *args: str) -> None:
        session = await self.load_session()
        user = User.from_public(session.get("user")) if session.user_id else None
        if self.needs_login and user is None:
            self.redirect("/login")
            return
        if not self.needs_login and user is not None:
            self.redirect("/")
            return
        self.xsrf_token  # noqa: B018  (sets the _xsrf cookie the scripts send back)
        self.render(self.template, **self.page(user, *args))

    def page(self, user: User | None, *args: str) -> dict[str, Any]:
        return {
            "user": user,
            "theme": prefs_of(self.session)["theme"],
            "title": self.title,
            "page": self.template.removesuffix(".html"),
            "subject": args[0] if args else "",
        }

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        if isinstance(kwargs.get("exc_info", (None, None, None))[1], StoreUnavailable):
            status_code = 503
            self.set_status(503)
        self.set_header("Content-Type", "text/plain; charset=UTF-8")
        self.finish(f"{status_code}: this page could not be shown; try again soon")


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


class LoginPage(PageHandler):
    template, title, needs_login = "login.html", "Log in", False


class SignupPage(PageHandler):
    template, title, needs_login = "signup.html", "Sign up", False
