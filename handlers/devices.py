"""Sessions and devices: GET/DELETE /api/sessions[/{id}], PUT /api/password."""

from __future__ import annotations

from chatapp.errors import ApiError
from chatapp.schemas import NewPassword
from handlers.base import ApiHandler


class DevicesHandler(ApiHandler):
    async def get(self) -> None:
        logins = await self.application.logins.of(self.me.id, self.session.id)
        self.send_json({"sessions": [login.public() for login in logins]})

    async def delete(self) -> None:
        """Log out everywhere else."""
        await self.application.logins.end_all_but(self.me.id, self.session.id, "revoked")
        self.set_status(204)


class DeviceHandler(ApiHandler):
    async def delete(self, handle: str) -> None:
        """End one of the caller's logins; ending the current one is a logout."""
        me = self.me
        logins = self.application.logins
        session_id = await logins.find(me.id, handle)
        if session_id is None:
            raise ApiError(404, "unknown_session", "no such session of yours (ended already?)")
        if session_id == self.session.id:
            await self.session.destroy("revoked")  # a logout: the cookie is cleared too
            await logins.changed(me.id)
        else:
            await logins.end(me.id, session_id, "revoked")
        self.set_status(204)


class PasswordHandler(ApiHandler):
    async def put(self) -> None:
        """Every other login ends; this one gets a new id and keeps its sockets."""
        me = self.me
        body = self.body(NewPassword)
        address = self.request.remote_ip or "unknown"
        await self.application.accounts.change_password(
            me, body.current_password, body.new_password, address
        )
        await self.session.regenerate(keep_sockets=True)
        await self.application.logins.end_all_but(me.id, self.session.id, "password_changed")
        self.set_status(204)
