"""Session preferences: what a client may set, over HTTP or a socket alike.

Each preference is a session key of its own (`pref:theme`), so setting one
is a blind write: two tabs setting the theme at once both succeed, the later
wins, and setting one preference never races with setting another.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

from chatapp.schemas import Prefs

DEFAULTS: dict[str, Any] = {"theme": "light"}
_PREFIX = "pref:"


def prefs_of(data: Mapping[str, Any]) -> dict[str, Any]:
    """The prefs in session data, defaults filled in."""
    return {name: data.get(_PREFIX + name, default) for name, default in DEFAULTS.items()}


def set_prefs(session: MutableMapping[str, Any], wanted: Prefs) -> dict[str, Any]:
    """Write these (checked) prefs to the session; all the prefs afterwards."""
    for name, value in wanted.model_dump(exclude_unset=True).items():
        session[_PREFIX + name] = value
    return prefs_of(session)
