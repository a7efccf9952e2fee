"""Headless Debian Chromium driven by Playwright, with fake camera and microphone.

Playwright's sync API runs an event loop for as long as it is open; it is scoped to
each browser test module so that it is closed before the asyncio tests run.
"""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package")
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    """Opens a page in a context of its own (one per person), closed after the test."""
    contexts: list[BrowserContext] = []

    def open_page(phone: bool = False) -> Page:
        context = browser.new_context(
            **(PHONE if phone else {"viewport": {"width": 1280, "height": 800}})
        )
        context.grant_permissions(["camera", "microphone"])
        contexts.append(context)
        page = context.new_page()
        page.on(
            "console",
            lambda msg: print(f"[{'phone' if phone else 'laptop'}] {msg.type}: {msg.text}"),
        )
        return page

    yield open_page
    for context in contexts:
        context.close()
