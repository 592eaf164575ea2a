"""What the browser tests share: Debian's Chromium (never a downloaded one) and a person in it.

A plugin of the test suite (conftest's pytest_plugins): `chromium` and `site`
are fixtures; `person`, `befriend` and `snapshot` are what the tests call.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from tests.apps import Running, ServeApp, app_settings
from tests.processes import ROOT

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
PASSWORD = "correct horse battery"
WAIT_MS = 10_000  # every wait on the page is bounded

expect.set_options(timeout=WAIT_MS)


@pytest.fixture
async def chromium() -> AsyncIterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed: `make test` installs it (apt-get install chromium)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        await browser.close()


@pytest.fixture
async def site(serve_app: ServeApp) -> Running:
    return await serve_app(app_settings(session={"store": "memory"}))


async def person(chromium: Browser, site: Running, username: str) -> tuple[BrowserContext, Page]:
    """A browser context of someone who just signed up, on the feed."""
    context = await chromium.new_context(base_url=site.url)
    page = await sign_up(context, username)
    await expect(page).to_have_url(site.url + "/")
    return context, page


async def sign_up(context: BrowserContext, username: str) -> Page:
    """A new page of this context where `username` signed up through the form."""
    page = await context.new_page()
    await page.goto("/signup")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Display name").fill(username.title())
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign up").click()
    await expect(page.locator("#me")).to_have_text(username.title())
    return page


async def post_json(page: Page, path: str) -> int:
    """A state-changing API call from inside the page, with its XSRF token, as the app makes."""
    return int(
        await page.evaluate(
            """async (path) => {
            const token = decodeURIComponent(document.cookie.match(/_xsrf=([^;]*)/)[1]);
            const response = await fetch(path, {method: "POST", headers: {"X-XSRFToken": token}});
            return response.status;
        }""",
            path,
        )
    )


async def befriend(a: Page, b: Page, a_name: str, b_name: str) -> None:
    assert await post_json(a, f"/api/friends/{b_name}") == 200
    assert await post_json(b, f"/api/friends/{a_name}") == 200


async def snapshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
