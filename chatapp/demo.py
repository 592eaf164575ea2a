"""Seed data for a first look: three users who are friends, with posts and a message.

`python run.py --demo` calls `seed` before serving; it is idempotent (an
existing demo user is left alone). The logins are printed and named in the
README: `alice`, `bob` and `carol`, each with the password `<name>-demo`.
These are demo accounts, not secrets; don't run --demo on a public server.
"""

from __future__ import annotations

import logging

from chatapp.accounts.service import Accounts
from chatapp.social.service import Social

log = logging.getLogger(__name__)

DEMO_USERS = {"alice": "Alice Liddell", "bob": "Bob Dylan", "carol": "Carol King"}
PASSWORD_SUFFIX = "-demo"
POSTS = [
    ("alice", "Down the rabbit hole today. Anyone up for tea at six?"),
    ("bob", "New song in the works; the answer is still blowing in the wind."),
    ("carol", "It's too late, baby, but the coffee is still warm."),
]


def demo_password(username: str) -> str:
    return username + PASSWORD_SUFFIX


async def seed(accounts: Accounts, social: Social) -> bool:
    """Create the demo users, friendships, posts and a message; False if they exist already."""
    if await accounts.db.account("alice") is not None:
        return False
    users = {
        name: await accounts.sign_up(name, demo_password(name), display_name)
        for name, display_name in DEMO_USERS.items()
    }
    for a, b in (("alice", "bob"), ("bob", "carol")):
        await social.befriend(users[a], b)
        await social.befriend(users[b], a)
    await social.befriend(users["carol"], "alice")  # a request for alice to answer
    posts = [(await social.post(users[author], text))[0] for author, text in POSTS]
    await social.comment(users["bob"], posts[0].id, "Only if there are scones.")
    await social.message(users["alice"], "bob", "Tea at six, then?")
    log.info(
        "demo data created: log in as %s (password: <name>%s)",
        ", ".join(DEMO_USERS),
        PASSWORD_SUFFIX,
    )
    return True
