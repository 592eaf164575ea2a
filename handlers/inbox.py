"""Notifications and direct messages."""

from __future__ import annotations

from chatapp import validation as check
from chatapp.errors import ApiError
from handlers.base import ApiHandler


class NotificationsHandler(ApiHandler):
    async def get(self) -> None:
        me = self.me
        limit = check.limit(self.get_query_argument("limit", None), default=50)
        notifications, unread = await self.application.db.notifications(me.id, limit)
        self.send_json({"notifications": [n.public() for n in notifications], "unread": unread})


class NotificationsReadHandler(ApiHandler):
    async def post(self) -> None:
        me = self.me
        body = self.json_body()
        check.fields(body, set(), frozenset({"ids"}))
        ids = check.id_list(body["ids"]) if "ids" in body else None
        await self.application.db.mark_read(me.id, ids)
        self.set_status(204)


class MessagesHandler(ApiHandler):
    async def get(self, username: str) -> None:
        me = self.me
        social = self.application.social
        other = await social.someone(username)
        if await social.db.friendship(me.id, other.id) != "friends":
            raise ApiError(403, "not_friends", "you can only read messages with your friends")
        before = check.cursor(self.get_query_argument("before", None))
        limit = check.limit(self.get_query_argument("limit", None), default=50)
        messages = await social.db.messages(me.id, other.id, before, limit)
        self.send_page("messages", messages, limit)
