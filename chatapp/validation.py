"""Checks on what clients send, over HTTP or a socket alike: each refusal is a 400 with a code."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from chatapp.errors import ApiError
from chatapp.social.ids import parse_id

USERNAME = re.compile(r"^[a-z0-9_]{3,32}$")
MIN_PASSWORD = 8
#: bcrypt reads 72 bytes; a longer password is refused, never silently cut.
MAX_PASSWORD_BYTES = 72
MAX_TEXT = 1000
MAX_DISPLAY_NAME = 64


def fields(
    body: Mapping[str, Any], required: set[str], optional: frozenset[str] = frozenset()
) -> None:
    """Refuse unknown fields and missing required ones."""
    unknown = sorted(body.keys() - required - optional)
    if unknown:
        raise ApiError(400, "unknown_field", f"unknown field: {unknown[0]}")
    missing = sorted(required - body.keys())
    if missing:
        raise ApiError(400, "missing_field", f"missing field: {missing[0]}")


def username(value: Any) -> str:
    if not isinstance(value, str) or not USERNAME.match(value):
        raise ApiError(400, "invalid_username", "a username is 3 to 32 of a-z, 0-9 and _")
    return value


def password(value: Any) -> str:
    if not isinstance(value, str) or len(value) < MIN_PASSWORD:
        raise ApiError(400, "weak_password", f"a password has at least {MIN_PASSWORD} characters")
    if len(value.encode()) > MAX_PASSWORD_BYTES:
        raise ApiError(
            400, "password_too_long", f"a password has at most {MAX_PASSWORD_BYTES} bytes (UTF-8)"
        )
    return value


def display_name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_DISPLAY_NAME:
        raise ApiError(
            400, "invalid_display_name", f"a display name is 1 to {MAX_DISPLAY_NAME} characters"
        )
    if any(ord(c) < 32 for c in value):
        raise ApiError(400, "invalid_display_name", "a display name has no control characters")
    return value.strip()


def text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
        raise ApiError(400, "invalid_text", f"text is 1 to {MAX_TEXT} characters")
    return value


def limit(value: str | None, default: int = 20, most: int = 100) -> int:
    if value is None:
        return default
    if not value.isdigit() or not 1 <= int(value) <= most:
        raise ApiError(400, "invalid_limit", f"limit is a whole number from 1 to {most}")
    return int(value)


def id_list(value: Any) -> list[str]:
    if (
        not isinstance(value, list)
        or len(value) > 1000
        or not all(isinstance(i, str) for i in value)
    ):
        raise ApiError(400, "invalid_ids", "ids is a list of at most 1000 id strings")
    return value


def cursor(value: str | None) -> str | None:
    """A `before` cursor from an earlier page, or None for the first page."""
    if value is not None and parse_id(value) is None:
        raise ApiError(400, "invalid_cursor", "before is a cursor from an earlier page")
    return value
