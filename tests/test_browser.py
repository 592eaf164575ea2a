"""The browser app in Debian's Chromium, driven by Playwright: what people see and do.

Chromium is /usr/bin/chromium from Debian (`make test` installs it); Playwright
never downloads a browser. Screenshots of the main pages are written to
test-artifacts/ (ignored by git).
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from chatapp.realtime.registry import user_room
from tests.apps import Running, ServeApp, app_settings
from tests.browser import PASSWORD, befriend, person, snapshot
from tests.processes import AppProcess
from tests.servers import free_port

pytestmark = pytest.mark.browser


async def test_friends_made_in_the_ui_see_each_others_posts_live(
    chromium: Browser, site: Running
) -> None:
    _, alice = await person(chromium, site, "alice")
    _, bob = await person(chromium, site, "bob")
    await bob.goto("/friends")
    await bob.get_by_label("Find people").fill("ali")
    await bob.get_by_role("button", name="Add friend").click()
    await expect(bob.locator("#requested")).to_contain_text("Alice")
    await expect(alice.locator("#unread")).to_have_text("1")  # the bell, live
    await alice.goto("/friends")
    await alice.locator("#incoming").get_by_role("button", name="Accept").click()
    await expect(alice.locator("#friends")).to_contain_text("Bob")
    await expect(alice.locator("#friends .presence.online")).to_have_text("online")  # bob's tab
    await snapshot(alice, "friends")
    await alice.goto("/")
    await bob.goto("/")
    await bob.get_by_label("What's new?").fill("Hello from Bob")
    await bob.get_by_role("button", name="Post").click()
    await expect(alice.locator("#posts")).to_contain_text("Hello from Bob")  # no reload
    await expect(alice.locator("#unread")).to_have_text("2")  # the request, unread, and the post
    await alice.locator(".post").first.get_by_role("button", name="Comments").click()
    await alice.get_by_label("Your comment").fill("Hi Bob!")
    await alice.get_by_role("button", name="Comment", exact=True).click()
    await expect(bob.locator(".post .count").first).to_have_text("1")
    await snapshot(alice, "feed")
    await alice.goto("/notifications")
    await expect(alice.locator("#notifications")).to_contain_text("posted")
    await snapshot(alice, "notifications")


async def test_a_chat_message_arrives_in_both_of_the_recipients_tabs(
    chromium: Browser, site: Running
) -> None:
    _, alice = await person(chromium, site, "alice")
    bob_context, bob = await person(chromium, site, "bob")
    await befriend(alice, bob, "alice", "bob")
    bob_second_tab = await bob_context.new_page()
    for tab in (bob, bob_second_tab):
        await tab.goto("/messages/alice")
    await alice.goto("/messages/bob")
    await alice.get_by_role("textbox", name="Message").fill("Tea at six?")
    await alice.get_by_role("button", name="Send").click()
    for tab in (alice, bob, bob_second_tab):
        await expect(tab.locator("#messages")).to_contain_text("Tea at six?")
    await expect(alice.locator("#messages li")).to_have_count(1)  # not doubled
    await snapshot(bob_second_tab, "messages")


async def test_the_theme_chosen_over_the_socket_survives_a_reload(
    chromium: Browser, site: Running
) -> None:
    _, alice = await person(chromium, site, "alice")
    await alice.goto("/settings")
    await expect(alice.locator("html")).to_have_attribute("data-theme", "light")
    await alice.get_by_label("Dark").check()
    await expect(alice.locator("html")).to_have_attribute("data-theme", "dark")
    await expect(alice.locator("#status")).to_have_text("Theme: dark.")
    await alice.reload()  # rendered by the server from the session the socket wrote
    await expect(alice.locator("html")).to_have_attribute("data-theme", "dark")
    await alice.get_by_label("Display name").fill("Alice Liddell")
    await alice.get_by_role("button", name="Save name").click()
    await expect(alice.locator("#me")).to_have_text("Alice Liddell")
    await snapshot(alice, "settings-dark")


async def test_logging_out_in_one_tab_sends_the_other_to_the_login_page(
    chromium: Browser, site: Running
) -> None:
    context, first = await person(chromium, site, "alice")
    second = await context.new_page()
    await second.goto("/friends")
    await expect(second.locator("#me")).to_have_text("Alice")
    await first.get_by_role("button", name="Log out").click()
    await expect(first).to_have_url(site.url + "/login")
    # The other tab says why, and comes back where it was after the next login.
    await expect(second).to_have_url(site.url + "/login?ended=logout&next=%2Ffriends")
    await expect(second.locator("#ended-notice")).to_have_text("You logged out in another tab.")
    await snapshot(second, "login")
    await second.get_by_label("Username").fill("alice")
    await second.get_by_label("Password").fill(PASSWORD)
    await second.get_by_role("button", name="Log in").click()
    await expect(second).to_have_url(site.url + "/friends")


async def test_markup_in_a_post_is_shown_as_text(chromium: Browser, site: Running) -> None:
    _, alice = await person(chromium, site, "alice")
    _, bob = await person(chromium, site, "bob")
    await befriend(alice, bob, "alice", "bob")
    dialogs: list[str] = []
    for page in (alice, bob):
        page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    await bob.goto("/")
    attack = "<img src=x onerror=alert(1)>"
    await alice.get_by_label("What's new?").fill(attack)
    await alice.get_by_role("button", name="Post").click()
    for page in (alice, bob):
        await expect(page.locator(".post .text").first).to_have_text(attack)
        assert await page.locator("#posts img").count() == 0
    await bob.reload()
    await expect(bob.locator(".post .text").first).to_have_text(attack)
    assert dialogs == []


async def test_after_a_dropped_connection_the_page_catches_up_without_doubles(
    chromium: Browser, site: Running
) -> None:
    _, alice = await person(chromium, site, "alice")
    _, bob = await person(chromium, site, "bob")
    await befriend(alice, bob, "alice", "bob")
    await bob.goto("/")
    bob_id = await bob.locator("#me").get_attribute("data-user-id")
    assert bob_id is not None
    await expect(bob.locator("#connection")).to_be_hidden()
    # Close bob's transport from the server: the client reconnects by itself, a second
    # or so later; the post made meanwhile reaches no socket of his.
    for _, eio_sid in list(site.app.sio.manager.get_participants("/", user_room(bob_id))):
        await site.app.sio.eio.disconnect(eio_sid)
    await alice.get_by_label("What's new?").fill("Posted while you were away")
    await alice.get_by_role("button", name="Post").click()
    await expect(bob.locator("#posts")).to_contain_text("Posted while you were away")
    await expect(bob.locator(".post")).to_have_count(1)


async def test_a_tab_holds_one_socket_and_logs_out_once(chromium: Browser, site: Running) -> None:
    """Before: app.js loaded twice (two module URLs): two websockets, two logout requests."""
    context, _ = await person(chromium, site, "alice")
    page = await context.new_page()
    sockets: list[str] = []
    logouts: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    page.on("request", lambda r: logouts.append(r.url) if r.url.endswith("/api/logout") else None)
    await page.goto("/friends")
    await expect(page.locator("#me")).to_have_text("Alice")
    alice_id = await page.locator("#me").get_attribute("data-user-id")
    assert alice_id is not None
    await _eventually_sockets(site, alice_id, 2)  # this tab and the sign-up tab
    assert len(sockets) == 1
    await page.get_by_role("button", name="Log out").click()
    await expect(page).to_have_url(site.url + "/login")
    assert len(logouts) == 1


async def _eventually_sockets(site: Running, user_id: str, count: int) -> None:
    for _ in range(200):
        if await site.app.sockets.socket_count(user_id) == count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{user_id} never had {count} sockets")


async def test_a_refused_socket_is_explained_on_the_page(
    chromium: Browser, serve_app: ServeApp
) -> None:
    site = await serve_app(
        app_settings(session={"store": "memory"}, socketio={"max_sockets_per_user": 1})
    )
    context, _ = await person(chromium, site, "alice")
    second = await context.new_page()
    await second.goto("/")
    await expect(second.locator("#connection")).to_contain_text("Too many open chatapp tabs")


@pytest.mark.slow
async def test_open_pages_come_back_by_themselves_after_a_restart(
    chromium: Browser, tmp_path: Path
) -> None:
    """Before: after SIGTERM and a start, open pages never reconnected (a server goodbye)."""
    port = free_port()
    settings = "[session]\nstore = file\n[socketio]\nping_interval = 2s\nping_timeout = 2s\n"
    server = AppProcess(tmp_path, settings, "--port", str(port))
    try:
        url = server.wait_listening()
        context = await chromium.new_context(base_url=url)
        alice = await context.new_page()
        await alice.goto("/signup")
        for label, value in (("Username", "alice"), ("Password", PASSWORD)):
            await alice.get_by_label(label).fill(value)
        await alice.get_by_role("button", name="Sign up").click()
        await expect(alice).to_have_url(url + "/")
        await alice.evaluate("window.notReloaded = true")
        assert server.stop() == 0  # SIGTERM: a graceful stop
        # The page says the connection is lost: "Reconnecting…" at once, then "Cannot reach
        # the server. Retrying…" once a retry fails, which a slow stop (a loaded machine)
        # can bring before this line looks.
        lost = alice.locator('#connection[data-state="lost"]')
        await expect(lost).to_contain_text(re.compile("Reconnecting|Retrying"))
        server = AppProcess(tmp_path, settings, "--port", str(port))
        server.wait_listening()
        # Reconnection backs off (1 s to 5 s); a slow start of the new process can cost an
        # attempt or two: generous, still bounded. On failure, say what the server saw.
        try:
            await expect(lost).to_have_count(0, timeout=40_000)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\nthe new server logged: {server.output[-20:]}") from None
        # The page's own socket (the one module instance of app.js) answers again.
        ack = "import('/static/app.js').then((app) => app.emit('session:get'))"
        assert (await alice.evaluate(ack))["user"]["username"] == "alice"
        assert await alice.evaluate("window.notReloaded") is True
    finally:
        server.stop()


async def test_a_login_ended_from_the_settings_page_leaves_at_once(
    chromium: Browser, site: Running
) -> None:
    """Two devices of one person; the laptop logs the phone out; the phone's page follows."""
    laptop_context, laptop = await person(chromium, site, "alice")
    phone_context = await chromium.new_context(
        base_url=site.url, viewport={"width": 390, "height": 844}, user_agent=IPHONE
    )
    phone = await phone_context.new_page()
    await phone.goto("/messages")  # not logged in: to the login page, and back after it
    await expect(phone).to_have_url(site.url + "/login?next=%2Fmessages")
    await phone.get_by_label("Username").fill("alice")
    await phone.get_by_label("Password").fill(PASSWORD)
    await phone.get_by_role("button", name="Log in").click()
    await expect(phone).to_have_url(site.url + "/messages")
    await laptop.goto("/settings")
    rows = laptop.locator("#logins li")
    await expect(rows).to_have_count(2)
    await expect(laptop.locator("#logins li.current")).to_contain_text("1 open tab")
    phone_row = rows.filter(has_text="Safari on iPhone")
    await expect(phone_row).to_contain_text("1 open tab")  # live: the phone's feed tab
    await snapshot(laptop, "settings-logins")
    await laptop.set_viewport_size({"width": 390, "height": 844})
    await snapshot(laptop, "settings-logins-phone")
    await laptop.set_viewport_size({"width": 1280, "height": 800})
    await phone_row.get_by_role("button", name="Log out").click()
    await expect(phone).to_have_url(
        site.url + "/login?ended=revoked&next=%2Fmessages", timeout=2_000
    )
    await expect(phone.locator("#ended-notice")).to_contain_text("signed out from another device")
    await snapshot(phone, "login-revoked-phone")
    await expect(rows).to_have_count(1)
    await laptop_context.close()


IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Safari/604.1"


async def test_the_page_warns_before_the_session_expires_and_one_click_renews(
    chromium: Browser, serve_app: ServeApp
) -> None:
    """idle 125 s: the 2 min warning comes about 5 s after the last renewal."""
    site = await serve_app(
        app_settings(
            session={"store": "memory", "idle_timeout": 125, "touch_interval": 2},
            socketio={"session_check_interval": 0.5},
        )
    )
    _, alice = await person(chromium, site, "alice")
    banner = alice.locator("#expiry")
    await expect(banner).to_contain_text("You'll be logged out in", timeout=15_000)
    await snapshot(alice, "expiry-warning")
    warned = await banner.get_attribute("data-expires-at")
    assert warned is not None
    await banner.get_by_role("button", name="Stay logged in").click()
    await expect(banner).to_be_hidden()
    ack = "import('/static/app.js').then((app) => app.emit('session:get'))"
    assert (await alice.evaluate(ack))["expires_at"] > warned


async def test_a_login_at_its_absolute_deadline_offers_a_fresh_login_instead(
    chromium: Browser, serve_app: ServeApp
) -> None:
    """idle = absolute = 100 s: the session ends at its deadline whatever happens, so the
    warning comes at once and says so; "Log in again" starts a new login and comes back."""
    site = await serve_app(
        app_settings(session={"store": "memory", "idle_timeout": 100, "absolute_timeout": 100})
    )
    _, alice = await person(chromium, site, "alice")
    await alice.goto("/friends")
    banner = alice.locator("#expiry")
    await expect(banner).to_contain_text("can't be extended")
    await expect(banner.get_by_role("button", name="Stay logged in")).to_be_hidden()
    await snapshot(alice, "expiry-final")
    await alice.set_viewport_size({"width": 390, "height": 844})
    await snapshot(alice, "expiry-final-phone")
    await banner.get_by_role("button", name="Log in again").click()
    await expect(alice).to_have_url(site.url + "/login?next=%2Ffriends")
    await alice.get_by_label("Username").fill("alice")
    await alice.get_by_label("Password").fill(PASSWORD)
    await alice.get_by_role("button", name="Log in").click()
    await expect(alice).to_have_url(site.url + "/friends")


async def test_a_room_made_in_the_browser_chats_types_edits_and_links(
    chromium: Browser, site: Running
) -> None:
    """Three friends in a room: the list's unread count and tab title, typing, a message
    with a link (clickable, safe), an edit and a deletion seen by the others live, a paste
    over the limit refused with a message; desktop and phone screenshots."""
    _, ann = await person(chromium, site, "ann")
    _, bob = await person(chromium, site, "bob")
    _, cid = await person(chromium, site, "cid")
    await befriend(ann, bob, "ann", "bob")
    await befriend(ann, cid, "ann", "cid")
    await ann.goto("/rooms")
    await ann.get_by_label("Name").fill("Weekend trip")
    await ann.get_by_label("Bob").check()
    await ann.get_by_label("Cid").check()
    await ann.get_by_role("button", name="Create room").click()
    await expect(ann).to_have_url(re.compile(r"/rooms/[0-9]+$"))
    room_url = ann.url
    await bob.goto(room_url)
    await cid.goto("/rooms")
    await expect(cid.locator("#rooms")).to_contain_text("Weekend trip")

    await ann.get_by_role("textbox", name="Message").press_sequentially("Tra")
    await expect(bob.locator("#typing")).to_have_text("Ann is typing…")
    await ann.get_by_role("textbox", name="Message").fill(
        "Plan: https://example.org/trip?day=1. Bring <b>boots</b>"
    )
    await ann.get_by_role("button", name="Send").click()
    link = bob.get_by_role("link", name="https://example.org/trip?day=1")
    await expect(link).to_have_attribute("rel", "noopener noreferrer nofollow")
    await expect(bob.locator("#messages")).to_contain_text("Bring <b>boots</b>")
    await expect(bob.locator("#typing")).to_have_text("")
    await expect(cid.locator("#rooms .count-badge")).to_have_text("1")
    await expect(cid).to_have_title(re.compile(r"^\(1\) Rooms"))

    too_long = "x" * 2001
    await bob.get_by_role("textbox", name="Message").fill(too_long)
    await bob.get_by_role("button", name="Send").click()
    await expect(bob.locator("#form-error")).to_contain_text("At most 2000 characters")
    await expect(bob.get_by_role("textbox", name="Message")).to_have_value(too_long)
    await bob.get_by_role("textbox", name="Message").fill("Count me in")
    await bob.get_by_role("button", name="Send").click()
    await expect(ann.locator("#messages")).to_contain_text("Count me in")

    ann.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept("Plan: see the list")))
    await ann.locator("#messages li.mine").get_by_role("button", name="Edit").click()
    edited = bob.locator("#messages li.theirs").first
    await expect(edited).to_contain_text("Plan: see the list")
    await expect(edited).to_contain_text("· edited")
    await snapshot(bob, "room")
    ann.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await ann.locator("#messages li.mine").get_by_role("button", name="Delete").click()
    await expect(bob.locator("#messages")).to_contain_text("Message deleted")
    await bob.set_viewport_size({"width": 390, "height": 780})
    await snapshot(bob, "room-phone")
    await bob.locator("details.members summary").click()
    await expect(bob.locator("#members")).to_contain_text("Ann @ann (owner)")
    await snapshot(bob, "room-members-phone")
    await cid.reload()
    await snapshot(cid, "rooms")


async def test_a_paste_over_the_limit_is_refused_and_kept_everywhere(
    chromium: Browser, site: Running
) -> None:
    """A post, a comment and a chat message longer than the limit: a message with the
    numbers, the text kept in its box, nothing sent."""
    _, ann = await person(chromium, site, "ann")
    _, bob = await person(chromium, site, "bob")
    await befriend(ann, bob, "ann", "bob")
    long_text = "y" * 1001
    post_box = ann.get_by_role("textbox", name="What's new?")
    await post_box.fill(long_text)
    await ann.get_by_role("button", name="Post").click()
    await expect(ann.locator("#form-error")).to_have_text(
        "At most 1000 characters; this has 1001. Your text is kept."
    )
    await expect(post_box).to_have_value(long_text)
    await post_box.fill("short enough")
    await ann.get_by_role("button", name="Post").click()
    await expect(ann.locator("#posts")).to_contain_text("short enough")
    await ann.get_by_role("button", name="Comments").first.click()
    comment_box = ann.get_by_label("Your comment")
    await comment_box.fill(long_text)
    await ann.get_by_role("button", name="Comment", exact=True).click()
    await expect(ann.locator(".comment-form .error")).to_contain_text("At most 1000 characters")
    await ann.goto("/messages/bob")
    chat_box = ann.get_by_role("textbox", name="Message")
    await chat_box.fill(long_text)
    await ann.get_by_role("button", name="Send").click()
    await expect(ann.locator("#form-error")).to_contain_text("this has 1001")
    await expect(chat_box).to_have_value(long_text)
    assert not (
        await site.app.db.messages(await site.user_id("ann"), await site.user_id("bob"), None, 5)
    )
