"""Headless Debian Chromium driven by Playwright, with fake camera and microphone.

Playwright's sync API runs an event loop for as long as it is open; it is scoped to
each browser test module so that it is closed before the asyncio tests run.
"""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

CHROMIUM = "/usr/bin/chromium"
FAKE_DEVICES = "--use-fake-device-for-media-stream"
PLAIN_HTTP_HOST = "plain-http.test"
# Lets the tests listen to received audio through Web Audio.
AUTOPLAY_ALLOWED = "--autoplay-policy=no-user-gesture-required"
BASE_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # Three fake cameras, so that switching camera can be tested. (fake_device_1
    # gives Y16 depth frames that WebRTC cannot encode; switch to fake_device_2.)
    f"{FAKE_DEVICES}=device-count=3",
    AUTOPLAY_ALLOWED,
    # A name for the test server that is not loopback to the browser: a page from
    # it is not a secure context, as one from http://192.168.1.5:8000 on a phone.
    f"--host-resolver-rules=MAP {PLAIN_HTTP_HOST} 127.0.0.1",
]
# Answers every camera/microphone prompt with "allow".
CHROMIUM_ARGS = [*BASE_ARGS, "--use-fake-ui-for-media-stream"]
# The narrowest phone in common use: nothing may scroll sideways at this width.
PHONE = {
    "viewport": {"width": 360, "height": 740},
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


@pytest.fixture(scope="module")
def denying_browser(playwright: Playwright) -> Iterator[Browser]:
    """A Chromium with no permission prompt answered: getUserMedia is denied."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BASE_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def cameraless_browser(playwright: Playwright) -> Iterator[Browser]:
    """A Chromium on a machine with microphones but no camera at all."""
    args = [arg for arg in CHROMIUM_ARGS if not arg.startswith(FAKE_DEVICES)]
    args.append(f"{FAKE_DEVICES}=device-count=0")  # fake microphones only
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def phone_autoplay_browser(playwright: Playwright) -> Iterator[Browser]:
    """A Chromium with Android's autoplay rule: sound may start only right after a tap."""
    args = [arg for arg in CHROMIUM_ARGS if arg != AUTOPLAY_ALLOWED]
    args.append("--autoplay-policy=user-gesture-required")
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
    yield browser
    browser.close()


@pytest.fixture
def new_page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Callable[..., Page]]:
    """Opens a page in a context of its own (one per person), closed after the test."""
    contexts: list[BrowserContext] = []

    def open_page(
        phone: bool = False,
        camera_denied: bool = False,
        no_camera: bool = False,
        self_signed_ok: bool = False,
        phone_autoplay: bool = False,
        withdrawable_permissions: bool = False,
        only_allowed: tuple[str, ...] | None = None,
    ) -> Page:
        """`withdrawable_permissions`: camera and microphone allowed by the context
        rather than by a fake prompt, so that `page.context.clear_permissions()`
        withdraws them and ends the page's tracks, as a device unplugged mid-call.
        `only_allowed`: the permissions the person gave ("camera", "microphone"); the
        others are refused, as when one is blocked in the browser's prompt."""
        size = PHONE if phone else {"viewport": {"width": 1280, "height": 800}}
        # As a person does once: accept peercall's self-signed certificate.
        size = {**size, "ignore_https_errors": self_signed_ok}
        if camera_denied or withdrawable_permissions or only_allowed is not None:
            # The other browsers are launched only by the tests that need them.
            denying_browser: Browser = request.getfixturevalue("denying_browser")
            context = denying_browser.new_context(**size)
            if withdrawable_permissions:
                context.grant_permissions(["camera", "microphone"])
            elif only_allowed:
                context.grant_permissions(list(only_allowed))
        else:
            chosen = browser
            if no_camera:
                chosen = request.getfixturevalue("cameraless_browser")
            elif phone_autoplay:
                chosen = request.getfixturevalue("phone_autoplay_browser")
            context = chosen.new_context(**size)
            # Granting some denies the rest; Chrome grants a visible page the screen
            # wake lock without asking.
            context.grant_permissions(
                ["camera", "microphone", "clipboard-read", "clipboard-write", "screen-wake-lock"]
            )
        contexts.append(context)
        page = context.new_page()
        name = "phone" if phone else "laptop"
        page.on("console", lambda msg: print(f"[{name}] {msg.type}: {msg.text}"))
        page.on("pageerror", lambda error: script_errors.append(f"[{name}] {error}"))
        return page

    script_errors: list[str] = []
    yield open_page
    for context in contexts:
        context.close()
    # An exception nobody caught in the page's scripts is a bug, even when the test's
    # own checks happened to pass.
    assert script_errors == []
