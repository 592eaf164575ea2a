"""The social data layer's interface: what every database backend guarantees.

Ids are decimal strings of one monotonic sequence per kind, so "newest first"
is creation order even within one second, and a page cursor is the last id
seen: a page never skips or repeats an item when new ones arrive meanwhile.

Visibility is enforced here, in the queries, not only by handlers: a post,
its comments and its comment count are seen by its author and the author's
friends, and by no one else.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable
from dataclasses import replace
from typing import Literal

from chatapp.social.ids import parse_id
from chatapp.social.models import (
    Account,
    Comment,
    Message,
    Notification,
    Post,
    Published,
    Room,
    RoomMessage,
    RoomSummary,
    User,
)

#: What an author may edit or delete: comments, direct messages, room messages.
Editable = Literal["comments", "messages", "room_messages"]

#: How long an Idempotency-Key names the post it made.
KEY_LIFETIME = 24 * 3600.0


class UsernameTaken(Exception):
    """Another user has this username."""


class Database(abc.ABC):
    #: Short name used in logs and /healthz.
    name: str

    async def prepare(self) -> None:
        """Create or migrate the schema and indexes; idempotent, run at start-up."""

    async def ping(self) -> None:
        """Return if the database answers; raise otherwise."""

    async def close(self) -> None:
        """Release connections and threads."""

    # -- accounts -------------------------------------------------------------------------

    @abc.abstractmethod
    async def create_user(self, username: str, display_name: str, password_hash: str) -> User:
        """A new user; UsernameTaken if the (already lower-case) username is in use."""

    @abc.abstractmethod
    async def account(self, username: str) -> Account | None:
        """The user with this username and their password hash, or None."""

    @abc.abstractmethod
    async def user(self, user_id: str) -> User | None: ...

    @abc.abstractmethod
    async def rename(self, user_id: str, display_name: str) -> User | None: ...

    @abc.abstractmethod
    async def set_password_hash(self, user_id: str, password_hash: str) -> None:
        """Replace the user's password hash (the old password no longer logs in)."""

    @abc.abstractmethod
    async def search_users(self, prefix: str, limit: int) -> list[User]:
        """Users whose username or display name starts with `prefix` (ignoring case, for
        ASCII letters in SQLite), in username order."""

    # -- friendships ----------------------------------------------------------------------

    @abc.abstractmethod
    async def friendship(self, user_id: str, other_id: str) -> str:
        """`none`, `friends`, `requested` (user asked other) or `incoming` (other asked user)."""

    @abc.abstractmethod
    async def friendships(self, user_id: str, others: Iterable[str]) -> dict[str, str]:
        """`friendship` for many others at once."""

    @abc.abstractmethod
    async def request_friendship(self, user_id: str, other_id: str) -> str:
        """Ask to be friends, or accept when the other asked first; the state afterwards.

        Atomic: two users asking each other at once end up friends.
        """

    @abc.abstractmethod
    async def end_friendship(self, user_id: str, other_id: str, expect: str | None = None) -> str:
        """Unfriend, decline or cancel; the state that ended (`none` if there was none).

        With `expect`, atomically: only if the state (as `friendship` names it) is that
        one; otherwise nothing changes and the state found is returned.
        """

    @abc.abstractmethod
    async def related(self, user_id: str, state: str) -> list[User]:
        """The user's friends, incoming requests or sent requests (`state` as in `friendship`)."""

    @abc.abstractmethod
    async def friend_ids(self, user_id: str) -> list[str]: ...

    # -- posts and comments --------------------------------------------------------------------

    @abc.abstractmethod
    async def create_post(
        self, author_id: str, text: str, key: str | None = None
    ) -> tuple[Post, bool]:
        """A new post, and True; with a `key` the author used within KEY_LIFETIME,
        the post made then, and False (nothing is created). Atomic per key."""

    async def publish_post(self, author: User, text: str, key: str | None = None) -> Published:
        """A new post and its notification for the author's friends of this moment, all
        stored before anyone is told (`create_post`, then `notify`); a repeat of `key`
        makes nothing and tells nobody. A backend may do it in one transaction."""
        post, created = await self.create_post(author.id, text, key)
        if not created:
            return Published(post, False, [], None)
        friends = await self.friend_ids(author.id)
        notification = await self.notify(friends, "post", author, post_id=post.id)
        return Published(post, True, friends, notification)

    @abc.abstractmethod
    async def feed(self, viewer_id: str, before: str | None, limit: int) -> list[Post]:
        """The viewer's and their friends' posts older than the `before` id, newest first."""

    @abc.abstractmethod
    async def visible_post(self, post_id: str, viewer_id: str) -> Post | None:
        """The post if the viewer is its author or the author's friend, else None."""

    @abc.abstractmethod
    async def add_comment(self, post_id: str, author_id: str, text: str) -> Comment | None:
        """A comment on a post the author may see (and a higher comment count), else None."""

    @abc.abstractmethod
    async def comments(self, post_id: str, viewer_id: str) -> list[Comment]:
        """The comments of a post the viewer may see, oldest first; [] otherwise."""

    # -- notifications -----------------------------------------------------------------------

    async def notify(
        self,
        user_ids: Iterable[str],
        kind: str,
        actor: User,
        *,
        post_id: str | None = None,
        text: str | None = None,
        room_id: str | None = None,
    ) -> Notification | None:
        """Store one notification for each user, in one write, and return it.

        All recipients' copies share the id and time, so one emit can carry it
        to every recipient. None when there is no recipient.
        """
        recipients = [parse_id(u) for u in user_ids]
        if not recipients:
            return None
        made = Notification.new(kind, actor, post_id=post_id, text=text, room_id=room_id)
        return replace(made, id=str(await self._store_notification(recipients, made)))

    @abc.abstractmethod
    async def _store_notification(self, recipients: list[int | None], made: Notification) -> int:
        """Store `made` (all but its id) for each recipient under one new id; the id."""

    @abc.abstractmethod
    async def notifications(
        self, user_id: str, before: str | None, limit: int
    ) -> tuple[list[Notification], int]:
        """Notifications older than the `before` id, newest first, and the number unread (all)."""

    @abc.abstractmethod
    async def mark_read(self, user_id: str, ids: Iterable[str] | None) -> None:
        """Mark these (or, with None, all) of the user's notifications read."""

    # -- direct messages ---------------------------------------------------------------------

    @abc.abstractmethod
    async def send_message(self, sender_id: str, recipient_id: str, text: str) -> Message:
        """Store a message; the caller checks that the two are friends."""

    @abc.abstractmethod
    async def conversations(self, user_id: str) -> list[tuple[Message, int]]:
        """Each conversation's last message, most recent first, with its unread count:
        the other's messages after the user last read it (`mark_conversation_read`)."""

    @abc.abstractmethod
    async def mark_conversation_read(self, user_id: str, other_id: str) -> None:
        """Everything in the conversation so far is read, its message notifications too."""

    @abc.abstractmethod
    async def messages(
        self, user_id: str, other_id: str, before: str | None, limit: int
    ) -> list[Message]:
        """Messages between the two older than `before`, newest first."""

    # -- rooms ---------------------------------------------------------------------------------

    @abc.abstractmethod
    async def create_room(self, owner_id: str, name: str, member_ids: Iterable[str]) -> Room:
        """A new room of the owner and these members (the caller checked them)."""

    @abc.abstractmethod
    async def room(self, room_id: str, viewer_id: str) -> Room | None:
        """The room if the viewer is a member, else None (whether or not it exists)."""

    @abc.abstractmethod
    async def rooms(self, user_id: str) -> list[RoomSummary]:
        """The user's rooms, most recent activity (message, else creation) first, each with
        its last message and the messages of others since the user last read it (a deleted
        one is not unread)."""

    @abc.abstractmethod
    async def room_ids(self, user_id: str) -> list[str]:
        """The ids of the rooms the user is a member of (a socket joins them at connect)."""

    @abc.abstractmethod
    async def add_room_member(self, room_id: str, user_id: str) -> bool:
        """Make the user a member; False if the room does not exist (a member already is
        one: True)."""

    @abc.abstractmethod
    async def remove_room_member(self, room_id: str, user_id: str) -> bool:
        """The user is no longer a member; False if they were not one."""

    @abc.abstractmethod
    async def send_room_message(
        self, room_id: str, sender_id: str, text: str
    ) -> RoomMessage | None:
        """Store a message if the sender is a member at that moment (checked in the same
        write), else None."""

    @abc.abstractmethod
    async def room_messages(
        self, room_id: str, viewer_id: str, before: str | None, limit: int
    ) -> list[RoomMessage] | None:
        """Messages older than `before`, newest first, for a member; None for anyone else."""

    @abc.abstractmethod
    async def mark_room_read(self, room_id: str, user_id: str) -> bool:
        """Everything in the room so far is read by the user; False if not a member."""

    # -- changing what one wrote ---------------------------------------------------------------

    @abc.abstractmethod
    async def comment(self, post_id: str, comment_id: str, viewer_id: str) -> Comment | None:
        """The comment if it is on this post and the viewer may see the post, else None."""

    @abc.abstractmethod
    async def message(self, user_id: str, other_id: str, message_id: str) -> Message | None:
        """The direct message if it is between these two, else None."""

    @abc.abstractmethod
    async def room_message(
        self, room_id: str, message_id: str, viewer_id: str
    ) -> RoomMessage | None:
        """The room's message if the viewer is a member now, else None."""

    @abc.abstractmethod
    async def change(self, kind: Editable, item_id: str, text: str | None) -> None:
        """Give a comment, message or room message new text and the time of the edit; or,
        with None, delete it: its text is gone and it stays in its place as deleted."""
