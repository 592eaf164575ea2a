"""Ids as the API shows them (decimal strings) and as backends keep them (integers)."""

from __future__ import annotations

import re

_DECIMAL = re.compile(r"^[1-9][0-9]{0,17}$")


def parse_id(text: str | None) -> int | None:
    """The integer behind an id, or None for anything that is not one (never raises)."""
    if not isinstance(text, str) or not _DECIMAL.match(text):
        return None
    return int(text)


def ordered_pair(a: str, b: str) -> tuple[int, int]:
    """The two users' numbers, lower first (0 for an id that is not one: matches nothing)."""
    low, high = sorted((parse_id(a) or 0, parse_id(b) or 0))
    return low, high


def pair_key(a: str, b: str) -> str:
    """One key for a pair of users, whichever comes first."""
    return "{}:{}".format(*ordered_pair(a, b))


#: Above every id: the bound for "from the newest".
NO_CURSOR = 2**62


def cursor_bound(cursor: str | None) -> int:
    """The id a page ends below: a cursor from an earlier page, or no bound."""
    parsed = parse_id(cursor) if cursor is not None else None
    return parsed if parsed is not None else NO_CURSOR


def friendship_state(state: str, requester: int | None, me: int | None) -> str:
    """A stored pair (`pending` or `friends`, and who asked) as `me` sees it."""
    if state == "friends":
        return "friends"
    return "requested" if requester == me else "incoming"
