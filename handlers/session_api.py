"""The session as the HTTP API shows it: GET /api/session, PUT /api/prefs, POST /api/logout."""

from __future__ import annotations

from chatapp.schemas import Prefs
from chatapp.sessions.prefs import prefs_of, set_prefs
from handlers.base import ApiHandler


class SessionHandler(ApiHandler):
    async def get(self) -> None:
        user = self.current_user
        self.send_json(
            {
                "authenticated": user is not None,
                "user": user.public() if user else None,
                "prefs": prefs_of(self.session),
                "xsrf": self.xsrf_token.decode(),  # also sets the _xsrf cookie
            }
        )


class PrefsHandler(ApiHandler):
    """Prefs belong to the session, not the user: another login has its own."""

    async def put(self) -> None:
        prefs = self.body(Prefs)
        if self.session.id is None:  # an anonymous visitor's first write stores a session
            await self.application.limits.anonymous_sessions.spend(self.request.remote_ip or "")
        self.send_json({"prefs": set_prefs(self.session, prefs)})


class LogoutHandler(ApiHandler):
    async def post(self) -> None:
        await self.session.destroy()
        self.set_status(204)
