"""Session preferences: what a client may set, over HTTP or a socket alike."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chatapp.errors import ApiError

THEMES = ("light", "dark")
DEFAULTS: dict[str, Any] = {"theme": "light"}


def prefs_of(data: Mapping[str, Any]) -> dict[str, Any]:
    """The prefs in session data, defaults filled in."""
    stored = data.get("prefs")
    return {**DEFAULTS, **(stored if isinstance(stored, dict) else {})}


def parse_prefs(body: Mapping[str, Any]) -> dict[str, Any]:
    """The prefs a client sent, checked; ApiError(400) says what is wrong."""
    unknown = sorted(body.keys() - DEFAULTS.keys())
    if unknown:
        raise ApiError(400, "unknown_field", f"unknown field: {unknown[0]}")
    if body.get("theme") not in THEMES:
        raise ApiError(400, "invalid_theme", 'theme must be "light" or "dark"')
    return {"theme": body["theme"]}
