"""What the data layer returns: plain frozen records, turned into the API's JSON by `public()`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from chatapp.times import iso, now


@dataclass(frozen=True)
class Change:
    """How an item's author changed it since it was made: edited (when), or deleted."""

    edited_at: dt.datetime | None = None
    deleted: bool = False

    def shown(self, item: dict[str, Any]) -> dict[str, Any]:
        """The item's JSON as it stands: a deleted one keeps its place with no text."""
        if self.deleted:
            return {**item, "text": "", "deleted": True}
        if self.edited_at is not None:
            return {**item, "edited_at": iso(self.edited_at)}
        return item


UNCHANGED = Change()


@dataclass(frozen=True)
class User:
    id: str
    username: str
    display_name: str

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "username": self.username, "display_name": self.display_name}


@dataclass(frozen=True)
class Person:
    """A user as another user sees them: the friendship between them, and presence."""

    user: User
    friendship: str  # none, friends, requested (asked by the viewer), incoming
    online: bool | None = None  # known for friends only

    def public(self) -> dict[str, Any]:
        shown = self.user.public()
        if self.online is None:
            return {**shown, "friendship": self.friendship}
        return {**shown, "online": self.online}


@dataclass(frozen=True)
class Account:
    """A user with what only login may see."""

    user: User
    password_hash: str


@dataclass(frozen=True)
class Post:
    id: str
    author: User
    text: str
    created_at: dt.datetime
    comment_count: int

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "author": self.author.public(),
            "text": self.text,
            "created_at": iso(self.created_at),
            "comment_count": self.comment_count,
        }


@dataclass(frozen=True)
class Comment:
    id: str
    post_id: str
    author: User
    text: str
    created_at: dt.datetime
    change: Change = UNCHANGED

    def public(self) -> dict[str, Any]:
        return self.change.shown(
            {
                "id": self.id,
                "post_id": self.post_id,
                "author": self.author.public(),
                "text": self.text,
                "created_at": iso(self.created_at),
            }
        )


@dataclass(frozen=True)
class Notification:
    id: str
    kind: str
    actor: User
    created_at: dt.datetime
    read: bool
    post_id: str | None = None
    text: str | None = None
    #: The room a `room_message` was written in.
    room_id: str | None = None

    @classmethod
    def new(
        cls,
        kind: str,
        actor: User,
        *,
        post_id: str | None = None,
        text: str | None = None,
        room_id: str | None = None,
    ) -> Notification:
        """Made now and unread; its id is the store's to give (`dataclasses.replace`)."""
        return cls("", kind, actor, now(), False, post_id, text, room_id)

    def public(self) -> dict[str, Any]:
        shown: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "actor": self.actor.public(),
            "created_at": iso(self.created_at),
            "read": self.read,
        }
        if self.post_id is not None:
            shown["post_id"] = self.post_id
        if self.text is not None:
            shown["text"] = self.text
        if self.room_id is not None:
            shown["room_id"] = self.room_id
        return shown


@dataclass(frozen=True)
class Published:
    """A post as `Database.publish_post` made it, and whom its notification is for."""

    post: Post
    #: False: a repeat of an Idempotency-Key; nothing new was made, nobody is told.
    created: bool
    #: The author's friends when it was made: the notification's recipients.
    friends: list[str]
    notification: Notification | None


@dataclass(frozen=True)
class Message:
    id: str
    sender: User
    recipient: User
    text: str
    created_at: dt.datetime
    change: Change = UNCHANGED

    def other_party(self, user_id: str) -> User:
        """Whoever of the two is not `user_id`."""
        return self.recipient if self.sender.id == user_id else self.sender

    def public(self) -> dict[str, Any]:
        return self.change.shown(
            {
                "id": self.id,
                "from": self.sender.public(),
                "to": self.recipient.public(),
                "text": self.text,
                "created_at": iso(self.created_at),
            }
        )


@dataclass(frozen=True)
class Conversation:
    """Direct messages with one friend, as a list of conversations shows them."""

    other: User
    last_message: Message
    unread: int

    def public(self) -> dict[str, Any]:
        return {
            "with": self.other.public(),
            "last_message": self.last_message.public(),
            "unread": self.unread,
        }


@dataclass(frozen=True)
class Room:
    """A named group conversation: its members see its messages, no one else."""

    id: str
    name: str
    owner: User
    members: tuple[User, ...]
    created_at: dt.datetime

    def has_member(self, user_id: str) -> bool:
        return any(member.id == user_id for member in self.members)

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "owner": self.owner.public(),
            "members": [member.public() for member in self.members],
            "created_at": iso(self.created_at),
        }


@dataclass(frozen=True)
class RoomMessage:
    id: str
    room_id: str
    sender: User
    text: str
    created_at: dt.datetime
    change: Change = UNCHANGED

    def public(self) -> dict[str, Any]:
        return self.change.shown(
            {
                "id": self.id,
                "room": self.room_id,
                "from": self.sender.public(),
                "text": self.text,
                "created_at": iso(self.created_at),
            }
        )


@dataclass(frozen=True)
class RoomSummary:
    """A room as the caller's list of rooms shows it."""

    room: Room
    last_message: RoomMessage | None
    unread: int

    def public(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"room": self.room.public(), "unread": self.unread}
        if self.last_message is not None:
            shown["last_message"] = self.last_message.public()
        return shown
