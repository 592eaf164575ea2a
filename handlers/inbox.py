"""Notifications and direct messages."""

from __future__ import annotations

from chatapp import schemas as check
from chatapp.schemas import NewText, ReadNotifications
from handlers.base import ApiHandler


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


class MessageHandler(ApiHandler):
    """The sender edits (PATCH `{"text"}`) or deletes their direct message."""

    async def patch(self, username: str, message_id: str) -> None:
        me = self.me
        text = self.body(NewText).text
        self.application.limits.messages.spend(me.id)
        message = await self.application.social.change_message(me, username, message_id, text)
        self.send_json({"message": message.public()})

    async def delete(self, username: str, message_id: str) -> None:
        me = self.me
        self.application.limits.messages.spend(me.id)
        await self.application.social.change_message(me, username, message_id, None)
        self.set_status(204)
