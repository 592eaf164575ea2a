"""Times as the API shows them: ISO 8601 in UTC with an explicit Z."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

#: Epoch seconds now. Sessions, their stores and the socket registry take one (the
#: store's `clock`), so that tests move time on instead of waiting for it.
Clock = Callable[[], float]


def iso(moment: dt.datetime) -> str:
    """ISO 8601 in UTC with an explicit Z, to the millisecond."""
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iso_epoch(epoch: float) -> str:
    """`iso` of a Unix time (what session stores keep)."""
    return iso(dt.datetime.fromtimestamp(epoch, dt.UTC))


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
