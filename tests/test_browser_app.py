"""The browser app as people used to Mastodon, Slack or Discord expect it, in Debian's Chromium.

Conversations and chat, useful notifications, controls that never go stale,
live names, readable times, a first look that explains itself, network trouble
said in words. Screenshots go to test-artifacts/ (desktop and phone sizes).
"""

from __future__ import annotations

import asyncio
import re

import pytest
from playwright.async_api import Browser, Page, Route, ViewportSize, expect

from chatapp.realtime.registry import user_room
from chatapp.social.models import User
from tests.apps import Running
from tests.browser import PASSWORD, befriend, person, snapshot
from tests.helpers import eventually
from tests.processes import ROOT

pytestmark = pytest.mark.browser

PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}


async def user(site: Running, username: str) -> User:
    return await site.app.social.someone(username)


async def pair(chromium: Browser, site: Running) -> tuple[Page, Page]:
    """Alice and Bob, friends, each in a browser on the feed."""
    _, alice = await person(chromium, site, "alice")
    _, bob = await person(chromium, site, "bob")
    await befriend(alice, bob, "alice", "bob")
    return alice, bob


async def scrolled_to_bottom(page: Page) -> bool:
    return bool(
        await page.evaluate(
            "() => { const s = document.getElementById('scroller');"
            " return s.scrollHeight - s.scrollTop - s.clientHeight < 4; }"
        )
    )


# -- conversations and chat ---------------------------------------------------------------------


async def test_messages_lists_conversations_and_opening_one_reads_it(
    chromium: Browser, site: Running
) -> None:
    alice, bob = await pair(chromium, site)
    _, carol = await person(chromium, site, "carol")
    await befriend(alice, carol, "alice", "carol")
    bob_user, carol_user = await user(site, "bob"), await user(site, "carol")
    for text in ("one", "two", "three"):
        await site.app.social.message(bob_user, "alice", f"bob {text}")
    await site.app.social.message(carol_user, "alice", "carol here")
    await alice.get_by_role("link", name="Messages", exact=True).click()
    await expect(alice).to_have_url(site.url + "/messages")
    await expect(alice.get_by_role("link", name="Messages", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    rows = alice.locator("#conversations li")
    await expect(rows).to_have_count(2)
    await expect(rows.nth(0)).to_contain_text("carol here")  # the most recent first
    await expect(rows.nth(1).locator(".count-badge")).to_have_text("3")
    await expect(rows.nth(1)).to_contain_text("bob three")
    await snapshot(alice, "conversations")
    await rows.nth(1).get_by_role("link").click()
    await expect(alice.locator("#messages li")).to_have_count(3)
    await expect(alice.locator("h1")).to_contain_text("Bob")  # the display name, not @bob
    await alice.get_by_role("link", name="All conversations").click()
    await expect(rows.nth(1).locator(".count-badge")).to_have_count(0)  # read on opening
    await expect(rows.nth(0).locator(".count-badge")).to_have_text("1")  # carol's still unread
    # bob's three message notifications were read with the conversation: left are carol's
    # message and the two acceptances, on the bell as on the server
    await expect(alice.locator("#unread")).to_have_text("3")
    assert await unread_on_server(alice) == 3
    assert bob  # bob's page stays open throughout


async def unread_on_server(page: Page) -> int:
    found = await page.evaluate("fetch('/api/notifications').then(r => r.json())")
    return int(found["unread"])


async def test_a_chat_opens_at_the_newest_with_sides_and_loads_older(
    chromium: Browser, site: Running
) -> None:
    alice, bob = await pair(chromium, site)
    alice_user, bob_user = await user(site, "alice"), await user(site, "bob")
    for n in range(60):
        sender, to = (alice_user, "bob") if n % 2 else (bob_user, "alice")
        await site.app.social.message(sender, to, f"message {n}")
    await alice.goto("/messages/bob")
    messages = alice.locator("#messages li")
    await expect(messages).to_have_count(50)
    await expect(messages.last).to_contain_text("message 59")
    assert await scrolled_to_bottom(alice)
    await expect(messages.last).to_have_class(re.compile(r"\bmine\b"))  # 59: alice's
    await expect(messages.nth(-2)).to_have_class(re.compile(r"\btheirs\b"))
    composer = alice.get_by_role("textbox", name="Message")
    box = await composer.bounding_box()
    height = (alice.viewport_size or DESKTOP)["height"]
    assert box is not None and box["y"] + box["height"] <= height  # on screen
    await snapshot(alice, "chat")
    await alice.evaluate("document.getElementById('scroller').scrollTop = 0")
    first_shown = messages.first
    await expect(first_shown).to_contain_text("message 10")
    top_before = (await first_shown.bounding_box() or {"y": 0})["y"]
    await alice.get_by_role("button", name="Load older messages").click()
    await expect(messages).to_have_count(60)
    await expect(messages.first).to_contain_text("message 0")
    await expect(alice.get_by_role("button", name="Load older messages")).to_be_hidden()
    moved = alice.locator("#messages li", has_text=re.compile(r": message 10(?!\d)"))
    top_after = (await moved.bounding_box() or {"y": 0})["y"]
    assert abs(top_after - top_before) < 60  # what was on screen stays on screen
    await alice.set_viewport_size(PHONE)
    await alice.reload()
    await expect(messages).to_have_count(50)
    assert await scrolled_to_bottom(alice)
    await snapshot(alice, "chat-phone")
    assert bob


async def test_enter_sends_shift_enter_breaks_the_line_and_the_open_chat_rings_no_bell(
    chromium: Browser, site: Running
) -> None:
    alice, bob = await pair(chromium, site)
    await alice.goto("/messages/bob")
    await bob.goto("/")
    composer = alice.get_by_role("textbox", name="Message")
    await composer.fill("first line")
    await composer.press("Shift+Enter")
    await composer.press_sequentially("second line")
    await composer.press("Enter")
    await expect(alice.locator("#messages li.mine .text")).to_have_text("first line\nsecond line")
    await expect(composer).to_have_value("")
    await expect(bob.locator("#unread")).to_have_text("2")  # the request, and the message
    await expect(bob.locator("#toasts")).to_contain_text("Alice sent you a message")
    await expect(alice.locator("#unread")).to_have_text("1")  # bob's acceptance
    await site.app.social.message(await user(site, "bob"), "alice", "read as it arrives")
    await expect(alice.locator("#messages li.theirs")).to_contain_text("read as it arrives")
    await alice.wait_for_timeout(500)  # the page marks it read after it arrives
    await expect(alice.locator("#toasts")).to_be_empty()
    await expect(alice.locator("#unread")).to_have_text("1")  # nothing counted for the chat
    assert await unread_on_server(alice) == 1


# -- notifications ------------------------------------------------------------------------------


async def test_notifications_link_to_their_object_are_read_when_viewed_and_page(
    chromium: Browser, site: Running
) -> None:
    alice, bob = await pair(chromium, site)
    bob_user = await user(site, "bob")
    posts = [await site.app.social.post(bob_user, f"post {n}") for n in range(55)]
    await site.app.social.message(bob_user, "alice", "psst")
    await expect(alice.locator("#unread")).not_to_have_text("0")
    await alice.locator(".bell").click()
    items = alice.locator("#notifications li")
    await expect(items).to_have_count(50)
    await expect(items.first).to_contain_text("Bob sent you a message: “psst”")
    await expect(items.first.get_by_role("link")).to_have_attribute("href", "/messages/bob")
    newest_post = posts[-1][0]
    await expect(items.nth(1).get_by_role("link")).to_have_attribute(
        "href", f"/posts/{newest_post.id}"
    )
    await expect(alice.locator("#unread")).to_have_text("7")  # the 50 viewed are read
    await snapshot(alice, "notifications")
    await alice.get_by_role("button", name="Load more").click()
    await expect(items).to_have_count(57)  # 55 posts, the message, the acceptance
    await expect(alice.locator("#unread")).to_be_hidden()
    await expect(alice.get_by_role("button", name="Load more")).to_be_hidden()
    await alice.reload()
    await expect(alice.locator("#notifications li.unread")).to_have_count(0)
    await items.nth(1).get_by_role("link").click()
    await expect(alice).to_have_url(f"{site.url}/posts/{newest_post.id}")
    await expect(alice.locator(".post .text")).to_have_text("post 54")
    await expect(alice.get_by_label("Your comment")).to_be_visible()  # comments open
    assert bob


async def test_a_live_notification_names_who_did_what_in_a_toast(
    chromium: Browser, site: Running
) -> None:
    _, alice = await person(chromium, site, "alice")
    _, carol = await person(chromium, site, "carol")
    await site.app.social.rename(await user(site, "carol"), "Carol King")
    await carol.goto("/friends")
    await carol.get_by_label("Find people").fill("ali")
    await carol.get_by_role("button", name="Add friend").click()
    toast = alice.locator("#toasts .toast")
    await expect(toast).to_have_text(re.compile("Carol King sent you a friend request"))
    await expect(alice.locator("#toasts")).to_have_attribute("aria-live", "polite")
    await expect(toast.get_by_role("link")).to_have_attribute("href", "/friends")
    await expect(alice.locator("#unread")).to_have_text("1")
    await snapshot(alice, "toast")
    await toast.get_by_role("button", name="Dismiss").click()
    await expect(alice.locator("#toasts")).to_be_empty()


async def test_a_run_of_messages_is_one_toast_and_one_row_that_count_them(
    chromium: Browser, site: Running
) -> None:
    """Three messages from bob: one toast that counts them, the bell at 3, and on the
    notifications page one row "Bob sent you 3 messages" with the latest text."""
    alice, _ = await pair(chromium, site)
    bob_user = await user(site, "bob")
    await alice.goto("/settings")
    _, before = await site.app.social.notifications(await user(site, "alice"), None, 1)
    await expect(alice.locator("#unread")).to_have_text(str(before))  # the page's own read
    for n in range(3):
        await site.app.social.message(bob_user, "alice", f"message {n}")
    toast = alice.locator("#toasts .toast")
    await expect(toast).to_have_count(1)
    await expect(toast).to_contain_text("Bob sent you 3 messages: “message 2”")
    await expect(alice.locator("#unread")).to_have_text(str(before + 3))
    await alice.locator(".bell").click()
    await expect(alice.locator("#notifications li").first).to_contain_text(
        "Bob sent you 3 messages: “message 2”"
    )
    await expect(alice.locator("#unread")).to_be_hidden()  # the page shows them: all read


async def test_the_bell_counts_what_the_server_counts_when_pushes_cross_its_first_read(
    chromium: Browser, site: Running
) -> None:
    """Before: a page's first read of the count, answered after pushes had moved the bell,
    was dropped as stale, and the bell showed only the pushes (3 instead of 4)."""
    alice, _ = await pair(chromium, site)
    alice_user, bob_user = await user(site, "alice"), await user(site, "bob")
    release = asyncio.Event()

    async def held(route: Route) -> None:
        await release.wait()
        await route.continue_()

    await alice.route(re.compile(r"/api/notifications\?limit=1$"), held)
    tabs = site.app.sockets.sio.manager

    def alices_sockets() -> set[str]:
        return {sid for sid, _ in tabs.get_participants("/", user_room(alice_user.id))}

    before = alices_sockets()
    await alice.goto("/settings")
    await eventually(lambda: any(tabs.is_connected(s, "/") for s in alices_sockets() - before))
    for n in range(3):
        await site.app.social.message(bob_user, "alice", f"message {n}")
    await expect(alice.locator("#toasts .toast")).to_contain_text("3 messages")
    release.set()
    _, unread = await site.app.social.notifications(alice_user, None, 1)
    assert unread >= 4  # the friend's acceptance and the three messages
    await expect(alice.locator("#unread")).to_have_text(str(unread))


async def test_room_messages_missed_are_one_row_per_person_and_room_leading_there(
    chromium: Browser, site: Running
) -> None:
    """Alice away: bob's two messages in one room are one row "Bob wrote 2 messages in a
    room" that opens that room, and his message in another room a row of its own."""
    alice, bob = await pair(chromium, site)
    alice_user, bob_user = await user(site, "alice"), await user(site, "bob")
    trip = await site.app.rooms.create(bob_user, "Trip", ["alice"])
    other = await site.app.rooms.create(bob_user, "Other", ["alice"])
    await alice.close()  # no socket of alice's is open: the messages notify her

    async def away() -> bool:
        return not await site.app.sockets.is_online(alice_user.id)

    await eventually(away)
    for text in ("first", "second"):
        await site.app.rooms.send(bob_user, trip.id, text)
    await site.app.rooms.send(bob_user, other.id, "elsewhere")
    page = await alice.context.new_page()
    await page.goto("/notifications")
    rows = page.locator("#notifications li")
    await expect(rows.first).to_contain_text("Bob wrote in a room: “elsewhere”")
    await expect(rows.nth(1)).to_contain_text("Bob wrote 2 messages in a room: “second”")
    await expect(rows.nth(1).get_by_role("link")).to_have_attribute("href", f"/rooms/{trip.id}")
    await rows.nth(1).get_by_role("link").click()
    await expect(page).to_have_url(f"{site.url}/rooms/{trip.id}")
    await expect(page.locator("h1")).to_contain_text("Trip")
    assert bob


async def test_sign_up_shows_every_fields_error_under_it_at_once(
    chromium: Browser, site: Running
) -> None:
    await person(chromium, site, "taken")
    context = await chromium.new_context(base_url=site.url)
    page = await context.new_page()
    await page.goto("/signup")
    await page.get_by_label("Username").fill("No Way!")
    await page.get_by_label("Display name").fill("x" * 65)
    await page.get_by_label("Password").fill("short")
    await page.get_by_role("button", name="Sign up").click()
    expected = {
        "username": "A username is 3 to 32 of a-z, 0-9 and _.",
        "display_name": "A display name has at most 64 characters; this has 65.",
        "password": "A password has at least 8 characters.",
    }
    for name, message in expected.items():
        await expect(page.locator(f"#{name}-error")).to_have_text(message)
        await expect(page.locator(f"#{name}")).to_have_attribute("aria-invalid", "true")
    await snapshot(page, "signup-errors")
    await page.get_by_label("Display name").fill("Someone")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_label("Username").fill("taken")  # the server's answer, under its field
    await page.get_by_role("button", name="Sign up").click()
    await expect(page.locator("#username-error")).to_contain_text("taken")
    await expect(page.locator("#password-error")).to_have_text("")
    await expect(page.locator("#password")).not_to_have_attribute("aria-invalid", "true")
    await context.close()


# -- controls that never go stale ---------------------------------------------------------------


async def dave_asks_carol(chromium: Browser, site: Running) -> tuple[Page, Page]:
    """Dave finds carol on the friends page and asks; his result offers "Cancel request"."""
    _, dave = await person(chromium, site, "dave")
    _, carol = await person(chromium, site, "carol")
    await dave.goto("/friends")
    await dave.get_by_label("Find people").fill("car")
    await dave.get_by_role("button", name="Add friend").click()
    await expect(
        dave.locator("#results").get_by_role("button", name="Cancel request")
    ).to_be_visible()
    return dave, carol


async def test_search_results_and_lists_follow_the_friendship_live(
    chromium: Browser, site: Running
) -> None:
    dave, carol = await dave_asks_carol(chromium, site)
    result = dave.locator("#results li")
    await carol.goto("/friends")
    await carol.locator("#incoming").get_by_role("button", name="Accept").click()
    # dave's open search result follows: no "Cancel request" left to click
    await expect(result.get_by_role("button", name="Unfriend")).to_be_visible()
    await expect(dave.locator("#friends")).to_contain_text("Carol")


async def _friendship(page: Page, username: str) -> str:
    found = await page.evaluate(
        "(name) => fetch('/api/users?q=' + name).then(r => r.json())", username
    )
    return str(found["users"][0]["friendship"])


async def test_a_stale_button_is_refused_and_the_list_redrawn(
    chromium: Browser, site: Running
) -> None:
    dave, carol = await dave_asks_carol(chromium, site)
    cancel = dave.locator("#results").get_by_role("button", name="Cancel request")
    # dave's page stops hearing (its socket closed by the page), then carol accepts
    await dave.evaluate("import('/static/app.js').then((app) => app.socket.disconnect())")
    await site.app.social.befriend(await user(site, "carol"), "dave")
    sent: list[str] = []
    dave.on("request", lambda r: sent.append(r.url) if r.method == "DELETE" else None)
    await cancel.click()
    await expect(dave.locator("#status")).to_contain_text("That changed meanwhile")
    assert sent and sent[0].endswith("/api/friends/carol?expect=requested")
    assert await _friendship(dave, "carol") == "friends"  # not unfriended
    await expect(dave.locator("#results").get_by_role("button", name="Unfriend")).to_be_visible()
    assert carol


async def test_unfriend_asks_first_and_the_other_page_follows(
    chromium: Browser, site: Running
) -> None:
    alice, bob = await pair(chromium, site)
    await alice.goto("/friends")
    await bob.goto("/friends")
    await expect(bob.locator("#friends")).to_contain_text("Alice")
    unfriend = alice.locator("#friends").get_by_role("button", name="Unfriend")
    alice.once("dialog", lambda dialog: dialog.dismiss())
    await unfriend.click()
    await expect(alice.locator("#friends")).to_contain_text("Bob")  # said no: nothing changed
    questions: list[str] = []

    async def accept(dialog: object) -> None:
        questions.append(dialog.message)  # type: ignore[attr-defined]
        await dialog.accept()  # type: ignore[attr-defined]

    alice.once("dialog", accept)
    await unfriend.click()
    await expect(alice.locator("#friends")).to_contain_text("Nobody yet.")
    await expect(bob.locator("#friends")).to_contain_text("Nobody yet.")  # live, no reload
    assert questions and "Bob" in questions[0]


async def test_a_double_click_or_a_lost_answer_makes_one_post(
    chromium: Browser, site: Running
) -> None:
    _, alice = await person(chromium, site, "alice")
    text = alice.get_by_label("What's new?")
    await text.fill("only once")
    await alice.get_by_role("button", name="Post").dblclick()
    await expect(alice.locator(".post")).to_have_count(1)
    # The server makes the post but its answer is lost: the page says so, keeps the text;
    # pressing Post again repeats the Idempotency-Key, and still one post exists.
    lost = {"done": False}

    async def lose_answer(route: object) -> None:
        if lost["done"]:
            await route.continue_()  # type: ignore[attr-defined]
            return
        lost["done"] = True
        await route.fetch()  # type: ignore[attr-defined]
        await route.abort()  # type: ignore[attr-defined]

    await alice.route("**/api/posts", lose_answer)
    await text.fill("lost answer")
    await alice.get_by_role("button", name="Post").click()
    await expect(alice.locator("#form-error")).to_contain_text("The server is unreachable")
    await expect(text).to_have_value("lost answer")
    await expect(text).to_have_attribute("aria-invalid", "true")
    await alice.get_by_role("button", name="Post").click()
    await expect(alice.locator("#form-error")).to_have_text("")
    feed = await alice.evaluate("fetch('/api/feed').then(r => r.json())")
    assert [p["text"] for p in feed["posts"]] == ["lost answer", "only once"]
    await expect(alice.locator(".post")).to_have_count(2)


# -- names and times ------------------------------------------------------------------------------


async def test_a_rename_shows_live_everywhere_the_name_is(chromium: Browser, site: Running) -> None:
    alice, bob = await pair(chromium, site)
    alice_user = await user(site, "alice")
    post, _ = await site.app.social.post(alice_user, "hello")
    await site.app.social.comment(alice_user, post.id, "my own comment")
    await site.app.social.message(alice_user, "bob", "hi bob")
    chat = await bob.context.new_page()
    await chat.goto("/messages/alice")
    await bob.goto("/")
    await bob.get_by_role("button", name="Comments").click()
    await expect(bob.locator(".comment")).to_contain_text("my own comment")
    friends = await bob.context.new_page()
    await friends.goto("/friends")
    await alice.goto("/settings")
    await alice.get_by_label("Display name").fill("Alice Liddell")
    await alice.get_by_role("button", name="Save name").click()
    await expect(bob.locator(".post > .byline")).to_contain_text("Alice Liddell")
    await expect(bob.locator(".comment .byline")).to_contain_text("Alice Liddell")
    await expect(bob.locator(".post > .byline .avatar")).to_have_text("AL")
    await expect(chat.locator("h1")).to_contain_text("Alice Liddell")
    await expect(friends.locator("#friends")).to_contain_text("Alice Liddell")


async def test_times_read_as_relative_with_the_full_date_at_hand(
    chromium: Browser, site: Running
) -> None:
    alice, bob = await pair(chromium, site)
    await bob.get_by_label("What's new?").fill("fresh")
    await bob.get_by_role("button", name="Post").click()
    stamp = alice.locator(".post time").first
    await expect(stamp).to_have_text("just now")
    assert re.match(r"\d{4}-\d\d-\d\dT", await stamp.get_attribute("datetime") or "")
    assert await stamp.get_attribute("title")
    await alice.get_by_role("button", name="Comments").first.click()
    await alice.get_by_label("Your comment").fill("nice")
    await alice.get_by_role("button", name="Comment", exact=True).click()
    await expect(alice.locator(".comment time")).to_have_text("just now")
    now = "new Date('2026-03-12T12:00:00')"
    ago = f"(iso) => import('/static/time.js').then((t) => t.ago(iso, {now}))"
    cases = {
        "2026-03-12T11:59:30": "just now",
        "2026-03-12T11:55:00": "5 min ago",
        "2026-03-12T09:00:00": "3 h ago",
        "2026-03-11T20:00:00": "yesterday",
        "2026-03-09T12:00:00": "3 days ago",
    }
    for iso, want in cases.items():
        assert await alice.evaluate(ago, iso) == want


# -- first look -----------------------------------------------------------------------------------


async def test_a_first_look_explains_itself(chromium: Browser, site: Running) -> None:
    context = await chromium.new_context(base_url=site.url)
    page = await context.new_page()
    failures: list[str] = []  # uncaught errors (answers of 401 and 404 are the point here)
    page.on("pageerror", lambda error: failures.append(str(error)))
    await page.goto("/login")
    await expect(page.locator(".lead")).to_contain_text("chatapp is")
    await expect(page.locator("#demo-logins")).to_have_count(0)  # no --demo: no demo hint
    await page.get_by_label("Username").fill("nobody")
    await page.get_by_label("Password").fill("wrong password")
    await page.get_by_role("button", name="Log in").click()
    await expect(page.locator("#form-error")).to_have_text("wrong username or password")
    for field in ("Username", "Password"):
        await expect(page.get_by_label(field)).to_have_attribute("aria-invalid", "true")
        await expect(page.get_by_label(field)).to_have_attribute(
            "aria-describedby", re.compile("form-error")
        )
    icon = "fetch(document.querySelector('link[rel=icon]').href).then((r) => r.status)"
    assert await page.evaluate(icon) == 200
    await context.close()
    _, eve = await person(chromium, site, "eve")
    await expect(eve.locator("#empty")).to_contain_text("Your feed is empty")
    await expect(eve.locator("#empty").get_by_role("link", name="Find friends")).to_have_attribute(
        "href", "/friends"
    )
    await expect(eve.get_by_role("link", name="Feed")).to_have_attribute("aria-current", "page")
    await snapshot(eve, "empty-feed")
    await eve.goto("/no/such/page")
    await expect(eve.locator("h1")).to_have_text("Page not found")
    await expect(eve.locator("#me")).to_have_text("Eve")
    await snapshot(eve, "not-found")
    assert failures == [], failures


async def test_the_phone_header_is_one_line_and_its_menu_opens(
    chromium: Browser, site: Running
) -> None:
    context, _ = await person(chromium, site, "alice")
    phone = await context.new_page()
    await phone.set_viewport_size(PHONE)
    await phone.goto("/")
    header = await phone.locator("header.bar").bounding_box()
    assert header is not None and header["height"] <= 64, header
    friends = phone.get_by_role("link", name="Friends", exact=True)
    await expect(friends).to_be_hidden()
    await phone.get_by_role("button", name="Menu").click()
    await expect(phone.get_by_role("button", name="Menu")).to_have_attribute(
        "aria-expanded", "true"
    )
    await friends.click()
    await expect(phone).to_have_url(site.url + "/friends")
    bell = await phone.locator(".bell").bounding_box()
    menu = await phone.get_by_role("button", name="Menu").bounding_box()
    assert bell and menu and bell["x"] + bell["width"] + 8 < menu["x"]  # the badge has room
    await snapshot(phone, "friends-phone")


# -- network trouble ------------------------------------------------------------------------------


async def test_network_trouble_is_said_in_words_and_nothing_is_lost(
    chromium: Browser, site: Running
) -> None:
    context, alice = await person(chromium, site, "alice")
    errors: list[str] = []
    alice.on("pageerror", lambda error: errors.append(str(error)))
    await context.set_offline(True)
    banner = alice.locator("#connection")
    await expect(banner).to_contain_text(re.compile("Reconnecting|Retrying"))
    assert await banner.evaluate("(b) => getComputedStyle(b).position") == "fixed"
    await alice.get_by_label("What's new?").fill("typed while offline")
    await alice.get_by_role("button", name="Post").click()
    await expect(alice.locator("#form-error")).to_contain_text("The server is unreachable")
    await expect(alice.locator("#form-error")).not_to_contain_text("Failed to fetch")
    await alice.get_by_role("button", name="Log out").click()
    await expect(alice.locator("#status")).to_contain_text("logged out as soon as it answers")
    await snapshot(alice, "offline")
    await context.set_offline(False)
    await expect(alice).to_have_url(site.url + "/login", timeout=15_000)  # the retry got through
    assert errors == []


# -- accessibility --------------------------------------------------------------------------------

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PAGES = ["/", "/messages", "/messages/bob", "/friends", "/notifications", "/settings", "/nope"]


async def serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now."""
    await page.add_script_tag(path=str(AXE))
    found = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{page.url} [{v['impact']}] {v['id']}: {[n['target'] for n in v['nodes']][:3]}"
        for v in found["violations"]
        if v["impact"] in ("serious", "critical")
    ]


# axe checks text contrast; borders and badges (non-text contrast, 3:1) are checked here.
CONTRASTS = """() => {
  const rgb = (c) => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = (c) => { const [r, g, b] = rgb(c).map((v) => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05); };
  const style = (node) => getComputedStyle(node);
  const out = [];
  for (const field of document.querySelectorAll("input:not([type=radio]), textarea")) {
    const around = style(field.closest(".card, .composer, main")).backgroundColor;
    out.push(["border of #" + field.id, ratio(style(field).borderTopColor, around)]);
  }
  const badge = document.getElementById("unread");
  if (badge) {
    badge.hidden = false;
    const header = style(document.querySelector(".bar")).backgroundColor;
    out.push(["badge", ratio(style(badge).backgroundColor, header)]);
    out.push(["badge text", ratio(style(badge).color, style(badge).backgroundColor) / 1.5]);
  }
  return out;
}"""


async def weak_borders(page: Page, theme: str) -> list[str]:
    """Borders of fields and the bell's badge below 3:1 (its text below 4.5:1)."""
    measured = await page.evaluate(CONTRASTS)
    return [f"{page.url} {theme}: {what} {value:.2f}:1" for what, value in measured if value < 3]


async def test_no_serious_accessibility_violation_on_any_page_in_either_theme(
    chromium: Browser, site: Running
) -> None:
    """axe-core (npm, with the lock file) is injected by the test only: the app never serves it."""
    if not AXE.exists():
        pytest.fail("axe-core is missing: `make setup` installs it from package-lock.json")
    alice, bob = await pair(chromium, site)
    alice_user = await user(site, "alice")
    post, _ = await site.app.social.post(alice_user, "a post to look at")
    await site.app.social.comment(await user(site, "bob"), post.id, "and a comment")
    await site.app.social.message(alice_user, "bob", "and a message")
    room = await site.app.rooms.create(alice_user, "A room to look at", ["bob"])
    await site.app.rooms.send(alice_user, room.id, "and https://example.org in a room")
    # axe's script is injected into the page, which the page's policy forbids: a context
    # that sets the policy aside, for the check only
    context = await chromium.new_context(base_url=site.url, bypass_csp=True)
    context_page = await context.new_page()
    await context_page.goto("/login")
    found = await serious_violations(context_page)
    await context.add_cookies(await alice.context.cookies())  # type: ignore[arg-type]
    for theme in ("light", "dark"):
        assert (
            await alice.evaluate(
                """(theme) => fetch('/api/prefs', {method: 'PUT', body: JSON.stringify({theme}),
                headers: {'Content-Type': 'application/json', 'X-XSRFToken':
                decodeURIComponent(document.cookie.match(/_xsrf=([^;]*)/)[1])}})
                .then((r) => r.status)""",
                theme,
            )
            == 200
        )
        page = await context.new_page()
        for path in [*PAGES, f"/posts/{post.id}", "/rooms", f"/rooms/{room.id}"]:
            await page.goto(path)
            await expect(page.locator("html")).to_have_attribute("data-theme", theme)
            await page.wait_for_load_state("networkidle")
            found += await serious_violations(page)
        found += await weak_borders(page, theme)
        await page.close()
    anonymous = await chromium.new_context(base_url=site.url, bypass_csp=True)
    signup = await anonymous.new_page()
    await signup.goto("/signup")
    found += await serious_violations(signup)
    assert found == [], "\n".join(found)
    assert bob
