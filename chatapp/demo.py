"""Seed data for a first look: three friends with posts, comments, a conversation, a room.

`python run.py --demo` calls `seed` before serving. The logins are printed,
named on the login page and in the README: `alice`, `bob` and `carol`, each
with the password `<name>-demo`. These are demo accounts, not secrets; don't
run --demo on a public server.

All or nothing: the three usernames are checked first, and if only some of
them exist (a real user called bob), nothing is created and start-up ends
with one line naming the username. When all three exist, the data was seeded
by an earlier run and is left as it is. (The check and the creation are not
one transaction: a sign-up of `bob` on another process in between would end
the seeding half done; seeding runs before this process listens.)
"""

from __future__ import annotations

import logging

from chatapp.accounts.service import Accounts
from chatapp.errors import ChatappError
from chatapp.services.rooms import Rooms
from chatapp.services.social import Social

log = logging.getLogger(__name__)

DEMO_USERS = {"alice": "Alice Liddell", "bob": "Bob Dylan", "carol": "Carol King"}
PASSWORD_SUFFIX = "-demo"
FRIENDS = [("alice", "bob"), ("bob", "carol"), ("carol", "alice")]
POSTS = [
    ("alice", "Down the rabbit hole today. Anyone up for tea at six?"),
    ("bob", "New song in the works; the answer is still blowing in the wind."),
    ("carol", "It's too late, baby, but the coffee is still warm."),
]
COMMENTS = [(0, "bob", "Only if there are scones."), (1, "carol", "Play it at the party!")]
CONVERSATION = [
    ("alice", "bob", "Tea at six, then?"),
    ("bob", "alice", "Six it is. I'll bring the guitar."),
    ("alice", "bob", "Perfect, see you there!"),
]
ROOM = "Tea party"
ROOM_MESSAGES = [
    ("alice", "Welcome to the tea party! Menu ideas: https://en.wikipedia.org/wiki/Afternoon_tea"),
    ("carol", "I'll bake. Lemon or chocolate?"),
    ("bob", "Both, obviously."),
]


def demo_password(username: str) -> str:
    return username + PASSWORD_SUFFIX


async def seed(accounts: Accounts, social: Social, rooms: Rooms) -> tuple[str, ...]:
    """The demo logins, after creating them and their data if no earlier run did."""
    existing = [name for name in DEMO_USERS if await accounts.db.account(name) is not None]
    if len(existing) == len(DEMO_USERS):
        log.info("demo data present: log in as %s (password: <name>%s)", _names(), PASSWORD_SUFFIX)
        return tuple(DEMO_USERS)
    if existing:
        raise ChatappError(
            f"--demo: the username {existing[0]!r} is taken by a real account;"
            " no demo data was created"
        )
    users = {
        name: await accounts.sign_up(name, demo_password(name), display_name, "--demo")
        for name, display_name in DEMO_USERS.items()
    }
    for a, b in FRIENDS:
        await social.befriend(users[a], b)
        await social.befriend(users[b], a)
    posts = [(await social.post(users[author], text))[0] for author, text in POSTS]
    for index, author, text in COMMENTS:
        await social.comment(users[author], posts[index].id, text)
    for sender, recipient, text in CONVERSATION:
        await social.message(users[sender], recipient, text)
    room = await rooms.create(users["alice"], ROOM, ["bob", "carol"])
    for sender, text in ROOM_MESSAGES:
        await rooms.send(users[sender], room.id, text)
    log.info("demo data created: log in as %s (password: <name>%s)", _names(), PASSWORD_SUFFIX)
    return tuple(DEMO_USERS)


def _names() -> str:
    return ", ".join(DEMO_USERS)
