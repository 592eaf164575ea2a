"""Notifications and direct messages."""

from __future__ import annotations

from chatapp import schemas as check
from chatapp.ratelimit import Budgets
from chatapp.schemas import ReadNotifications
from chatapp.social.models import Message, User
from handlers.base import ApiHandler, AuthoredItemHandler


class NotificationsHandler(ApiHandler):
    async def get(self) -> None:
        me = self.me
        limit = check.limit(self.get_query_argument("limit", None), default=50)
        before = check.cursor(self.get_query_argument("before", None))
        notifications, unread = await self.application.social.notifications(me, before, limit)
        self.send_page("notifications", notifications, limit, unread=unread)


class NotificationsReadHandler(ApiHandler):
    async def post(self) -> None:
        me = self.me
        await self.application.social.mark_read(me, self.body(ReadNotifications).ids)
        self.set_status(204)


class MessagesHandler(ApiHandler):
    async def get(self, username: str) -> None:
        before = check.cursor(self.get_query_argument("before", None))
        limit = check.limit(self.get_query_argument("limit", None), default=50)
        messages = await self.application.social.conversation(self.me, username, before, limit)
        self.send_page("messages", messages, limit)


class ConversationsHandler(ApiHandler):
    async def get(self) -> None:
        conversations = await self.application.social.conversations(self.me)
        self.send_json({"conversations": [c.public() for c in conversations]})


class ConversationReadHandler(ApiHandler):
    async def post(self, username: str) -> None:
        """Read up to now; reading the history (GET /api/messages) does not do this."""
        await self.application.social.mark_conversation_read(self.me, username)
        self.set_status(204)


class MessageHandler(AuthoredItemHandler):
    key = "message"

    def budget(self) -> Budgets:
        return self.application.limits.messages

    async def change(self, me: User, text: str | None, *path: str) -> Message:
        username, message_id = path
        return await self.application.social.change_message(me, username, message_id, text)
