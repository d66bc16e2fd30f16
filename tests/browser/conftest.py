"""Real Chromium (Debian's /usr/bin/chromium driven by PyPI playwright) against the three real services.

Every test here is marked `browser` and skipped, with the reason, only when /usr/bin/chromium is absent.
Screenshots go to test-artifacts/screenshots/ (the committed copies live in docs/screenshots/).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from browsertools import DESKTOP, POLLS_FILE
from playwright.sync_api import Browser, Page, sync_playwright
from votectl.localstack import ServiceProcess

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    skip = pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed (apt-get install chromium)"
    )
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(skip)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_page(chromium: Browser) -> Iterator[Callable[..., Page]]:
    """`open_page(url, viewport=PHONE, javascript=True)`: a fresh browser context (own cookies) per call."""
    contexts = []

    def open_(url: str, viewport: dict[str, int] = DESKTOP, javascript: bool = True) -> Page:
        context = chromium.new_context(viewport=viewport, java_script_enabled=javascript, locale="en-GB")
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.goto(url)
        return page

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture
def stack(start_services: Callable[..., list[ServiceProcess]]) -> dict[str, ServiceProcess]:
    """worker, vote and result as real processes on free ports, serving the test polls file."""
    worker, vote, result = start_services("worker", "vote", "result", POLLS_FILE=str(POLLS_FILE))
    return {"worker": worker, "vote": vote, "result": result}
