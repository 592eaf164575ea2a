"""Checks on what clients send, over HTTP or a socket alike: each refusal is a 400 with a code."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from chatapp.errors import ApiError
from chatapp.social.ids import parse_id

USERNAME = re.compile(r"[a-z0-9_]{3,32}")
#: How deep a client's JSON may nest: the API's deepest body is 2 levels.
MAX_DEPTH = 16
_SURROGATE = re.compile("[\ud800-\udfff]")
_ASCII_DIGITS = re.compile(r"[0-9]{1,6}")
MIN_PASSWORD = 8
#: bcrypt reads 72 bytes; a longer password is refused, never silently cut.
MAX_PASSWORD_BYTES = 72
MAX_TEXT = 1000
MAX_DISPLAY_NAME = 64


def json_object(raw: bytes) -> dict[str, Any]:
    """A request body as a JSON object (empty: {}), checked as `payload` checks it."""
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ApiError(400, "invalid_json", "the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "the request body must be a JSON object")
    payload(body, depth_code="invalid_json")
    return body


def payload(value: Any, *, depth_code: str) -> None:
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
    if not isinstance(value, str) or not USERNAME.fullmatch(value):
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
    # Only ASCII digits: str.isdigit() also accepts "²" and "①", which int() refuses.
    if not _ASCII_DIGITS.fullmatch(value) or not 1 <= int(value) <= most:
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
