"""What clients may send, declared once for both transports.

One pydantic model per HTTP body and per socket payload. Unknown fields are
refused, every field type carries its rule and its contract code (a refusal
raises that code, whatever was wrong with the value), and `parse` is the one
mapping from pydantic's errors to the error shape: `unknown_field`,
`missing_field`, or the field's own code.

Before any model, `json_object` (HTTP) and `check_tree` (both) refuse JSON
nested deeper than MAX_DEPTH and text that no encoding can carry.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
)
from pydantic_core import PydanticCustomError

from chatapp.errors import ApiError
from chatapp.social.ids import parse_id

#: How deep a client's JSON may nest: the deepest body is 2 levels.
MAX_DEPTH = 16
MIN_PASSWORD = 8
#: Any length is hashed whole (chatapp.accounts.passwords pre-hashes it); the bound
#: only keeps a request's work small. OWASP ASVS asks for at least 64 characters.
MAX_PASSWORD = 1024
MAX_TEXT = 1000
MAX_DISPLAY_NAME = 64
MAX_ROOM_TEXT = 2000
MAX_ROOM_NAME = 64
#: A room's members, its owner included.
MAX_ROOM_MEMBERS = 256

_USERNAME = re.compile(r"[a-z0-9_]{3,32}")
_SURROGATE = re.compile("[\ud800-\udfff]")
_ASCII_DIGITS = re.compile(r"[0-9]{1,6}")

Model = TypeVar("Model", bound="Payload")


def rule(code: str, message: str, ok: Callable[[Any], bool]) -> BeforeValidator:
    """A field rule: values for which `ok` is false are refused with this code."""

    def check(value: Any) -> Any:
        if not ok(value):
            raise PydanticCustomError(code, message)
        return value

    return BeforeValidator(check)


def _is_text(value: Any, most: int) -> bool:
    return isinstance(value, str) and bool(value.strip()) and len(value) <= most


def _password_error(value: Any) -> str | None:
    if not isinstance(value, str) or len(value) < MIN_PASSWORD:
        return "weak_password"
    return "password_too_long" if len(value) > MAX_PASSWORD else None


Username = Annotated[
    str,
    rule(
        "invalid_username",
        "a username is 3 to 32 of a-z, 0-9 and _",
        lambda v: isinstance(v, str) and _USERNAME.fullmatch(v) is not None,
    ),
]
Password = Annotated[
    str,
    rule(
        "password_too_long",
        f"a password has at most {MAX_PASSWORD} characters",
        lambda v: _password_error(v) != "password_too_long",
    ),
    rule(
        "weak_password",
        f"a password has at least {MIN_PASSWORD} characters",
        lambda v: _password_error(v) != "weak_password",
    ),
]
DisplayName = Annotated[
    str,
    AfterValidator(str.strip),
    rule(
        "invalid_display_name",
        f"a display name is 1 to {MAX_DISPLAY_NAME} characters, no control characters",
        lambda v: _is_text(v, MAX_DISPLAY_NAME) and not any(ord(c) < 32 for c in v),
    ),
]
Text = Annotated[
    str,
    rule("invalid_text", f"text is 1 to {MAX_TEXT} characters", lambda v: _is_text(v, MAX_TEXT)),
]
RoomText = Annotated[
    str,
    rule(
        "invalid_text",
        f"a room message is 1 to {MAX_ROOM_TEXT} characters",
        lambda v: _is_text(v, MAX_ROOM_TEXT),
    ),
]
RoomName = Annotated[
    str,
    AfterValidator(str.strip),
    rule(
        "invalid_room_name",
        f"a room's name is 1 to {MAX_ROOM_NAME} characters, no control characters",
        lambda v: _is_text(v, MAX_ROOM_NAME) and not any(ord(c) < 32 for c in v),
    ),
]
Usernames = Annotated[
    list[str],
    rule(
        "invalid_members",
        f"members is a list of at most {MAX_ROOM_MEMBERS} usernames",
        lambda v: (
            isinstance(v, list)
            and len(v) <= MAX_ROOM_MEMBERS
            and all(isinstance(u, str) for u in v)
        ),
    ),
]
Credential = Annotated[
    str,
    rule("invalid_credentials", "username and password are strings", lambda v: isinstance(v, str)),
]
Ids = Annotated[
    list[str],
    rule(
        "invalid_ids",
        "ids is a list of at most 1000 id strings",
        lambda v: isinstance(v, list) and len(v) <= 1000 and all(isinstance(i, str) for i in v),
    ),
]
Theme = Annotated[
    Literal["light", "dark"],
    rule("invalid_theme", 'theme must be "light" or "dark"', lambda v: v in ("light", "dark")),
]


class Payload(BaseModel):
    """A body or socket payload: a JSON object with exactly these fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Nothing(Payload):
    """An event or request that takes no fields."""


class SignUp(Payload):
    username: Username
    password: Password
    display_name: DisplayName | None = None


class LogIn(Payload):
    username: Credential
    password: Credential


class NewPassword(Payload):
    current_password: Credential
    new_password: Password


class Prefs(Payload):
    # Checked even when absent: `{}` sets no theme, which is an invalid_theme, as it was.
    theme: Theme = Field(default=None, validate_default=True)


class NewText(Payload):
    """A post or a comment."""

    text: Text


class ReadNotifications(Payload):
    ids: Ids | None = None


class Rename(Payload):
    display_name: DisplayName


class ChatMessage(Payload):
    to: Username
    text: Text


class NewRoom(Payload):
    name: RoomName
    members: Usernames = Field(default_factory=list)


class NewMember(Payload):
    username: Username


class NewRoomText(Payload):
    text: RoomText


class RoomEvent(Payload):
    room: Annotated[str, rule("invalid_room", "room is a room's id", lambda v: isinstance(v, str))]


class RoomMessageText(RoomEvent):
    text: RoomText


def parse(model: type[Model], data: dict[str, Any]) -> Model:
    """`data` as `model`, or ApiError(400) with the contract's code for the first fault."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        field = ".".join(str(part) for part in first["loc"][:1])
        if first["type"] == "extra_forbidden":
            raise ApiError(400, "unknown_field", f"unknown field: {field}") from None
        if first["type"] == "missing":
            raise ApiError(400, "missing_field", f"missing field: {field}") from None
        raise ApiError(400, first["type"], first["msg"]) from None


# -- before any model --------------------------------------------------------------------


def json_object(raw: bytes) -> dict[str, Any]:
    """A request body as a JSON object (empty: {}), checked as `check_tree` checks it."""
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ApiError(400, "invalid_json", "the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "the request body must be a JSON object")
    check_tree(body, depth_code="invalid_json")
    return body


def check_tree(value: Any, *, depth_code: str) -> None:
    """Refuse JSON nested deeper than MAX_DEPTH, and text no encoding can carry.

    A lone UTF-16 surrogate ("\\ud800" in JSON) decodes to a Python string
    that cannot be encoded again: it would fail deep in a database driver or
    the socket encoder. Walked without recursion, so depth costs no stack.
    """
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ApiError(400, depth_code, f"JSON nested deeper than {MAX_DEPTH} levels")
        if isinstance(item, str):
            if _SURROGATE.search(item):
                raise ApiError(400, "invalid_text", "text must be valid Unicode (a lone surrogate)")
        elif isinstance(item, dict):
            stack.extend((part, depth + 1) for pair in item.items() for part in pair)
        elif isinstance(item, list):
            stack.extend((part, depth + 1) for part in item)


# -- query strings -------------------------------------------------------------------------


def limit(value: str | None, default: int = 20, most: int = 100) -> int:
    if value is None:
        return default
    # Only ASCII digits: str.isdigit() also accepts "²" and "①", which int() refuses.
    if not _ASCII_DIGITS.fullmatch(value) or not 1 <= int(value) <= most:
        raise ApiError(400, "invalid_limit", f"limit is a whole number from 1 to {most}")
    return int(value)


def cursor(value: str | None) -> str | None:
    """A `before` cursor from an earlier page, or None for the first page."""
    if value is not None and parse_id(value) is None:
        raise ApiError(400, "invalid_cursor", "before is a cursor from an earlier page")
    return value
