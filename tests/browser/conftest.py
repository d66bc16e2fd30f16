"""Real Chromium (Debian's /usr/bin/chromium driven by PyPI playwright) against the three real services.

Every test here is marked `browser` and skipped, with the reason, only when /usr/bin/chromium is absent.
Screenshots go to test-artifacts/screenshots/ (the committed copies live in docs/screenshots/).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
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
POLLS_FILE = Path(__file__).parents[1] / "ui" / "polls.yaml"
SCREENSHOTS = Path(__file__).parents[2] / "test-artifacts" / "screenshots"
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}


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


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True, animations="disabled")


def counts(result_url: str, poll: str) -> dict[str, int]:
    body = requests.get(f"{result_url}/api/polls/{poll}/results", timeout=5).json()
    return {item["option"]: item["votes"] for item in body["options"]}


def cast(vote_url: str, poll: str, option: str) -> None:
    """One vote from a new voter (no cookie), through the JSON API."""
    response = requests.post(f"{vote_url}/api/polls/{poll}/vote", json={"option": option}, timeout=5)
    assert response.status_code == 202, response.text
