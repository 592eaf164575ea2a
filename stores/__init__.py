"""Session stores: the abstract SessionStore and one module per backend.

Usable on its own: nothing here knows Tornado, Socket.IO or chatapp. Import a
backend from its module (stores.redis, ...) so only its driver is loaded.
"""

from stores.base import DELETED, USER_ID_KEY, SessionRecord, SessionStore
from stores.errors import (
    SessionGone,
    SessionStoreError,
    SessionValueError,
    StoreUnavailable,
)

__all__ = [
    "DELETED",
    "USER_ID_KEY",
    "SessionGone",
    "SessionRecord",
    "SessionStore",
    "SessionStoreError",
    "SessionValueError",
    "StoreUnavailable",
]
