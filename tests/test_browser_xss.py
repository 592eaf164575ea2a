"""Markup from users is text on every page, live and after a reload, in real Chromium.

A friend sends each payload of a small corpus as a display name and a chat
message (over the socket) and as a post and a comment (over HTTP) while the
victim's page is open; then the victim visits every page. No element may
come from user text (each payload's elements carry `data-xss`), no script
may run (each payload would set `window.xss` or open a dialog), and each
payload must show as the text it was.
"""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page, expect

from tests.apps import Running, leave
from tests.browser import PASSWORD, person, post_json
from tests.client import body
from tests.helpers import call

pytestmark = pytest.mark.browser

RUN = "window.xss=1;alert(1)"
PAYLOADS = [
    f"<script data-xss>{RUN}</script>",
    f"<img data-xss src=x onerror={RUN}>",
    f'"><svg data-xss onload="{RUN}">',
    f"<a data-xss href=javascript:{RUN}>x</a>",
    f"javascript:{RUN}",
    f"</textarea><iframe data-xss srcdoc='<script>{RUN}</script>'>",
    "{{7*7}} ${7*7} {% raw %}",
]
PAGES = ["/", "/friends", "/notifications", "/messages", "/messages/{friend}", "/settings"]


async def untouched(page: Page) -> None:
    """No element from user text and no script ran, on this page now."""
    assert await page.locator("[data-xss]").count() == 0, page.url
    assert await page.evaluate("window.xss") is None, page.url


async def test_a_corpus_of_payloads_renders_as_text_everywhere(
    chromium: Browser, site: Running
) -> None:
    _, victim = await person(chromium, site, "victim")
    dialogs: list[str] = []
    victim.on("dialog", lambda dialog: dialogs.append(dialog.message))
    friend = site.browser()
    signup = {"username": "mallory", "password": PASSWORD}
    assert (await friend.request("POST", "/api/signup", signup)).code == 201
    await friend.request("POST", "/api/friends/victim")
    assert await post_json(victim, "/api/friends/mallory") == 200
    tab = await site.socket(friend)
    await victim.goto("/")
    for payload in PAYLOADS:
        rename = await call(tab, "profile:rename", {"display_name": payload[:64]})
        assert rename["ok"] is True, rename
        post = body(await friend.request("POST", "/api/posts", {"text": payload}))["post"]
        comment = {"text": payload}
        assert (await friend.request("POST", f"/api/posts/{post['id']}/comments", comment)).code
        sent = await call(tab, "chat:send", {"to": "victim", "text": payload})
        assert sent["ok"] is True, sent
        await expect(victim.locator(".post .text").first).to_have_text(payload)  # live
        await untouched(victim)
    for path in [*PAGES, f"/posts/{post['id']}"]:
        await victim.goto(path.format(friend="mallory"))
        await victim.wait_for_load_state("networkidle")
        await untouched(victim)
    await victim.goto("/messages/mallory")
    for payload in PAYLOADS:
        await expect(victim.get_by_text(payload, exact=True).first).to_be_visible()
    await victim.goto(f"/posts/{post['id']}")
    await expect(victim.get_by_text(PAYLOADS[-1], exact=True).first).to_be_visible()
    assert dialogs == []
    await leave(tab)
