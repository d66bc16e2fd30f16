"""The results page in Chromium: live chart from SSE within a second, and catching up after a restart."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from browsertools import DESKTOP, PHONE, cast, screenshot
from playwright.sync_api import Page, expect
from votectl.localstack import ServiceProcess

LIVE = "Live: updates as votes arrive"


@pytest.fixture
def restarted(tmp_path) -> Iterator[Callable[[ServiceProcess], ServiceProcess]]:
    """Start a stopped service again on the same port; stopped at teardown whatever happens."""
    started: list[ServiceProcess] = []

    def restart(old: ServiceProcess) -> ServiceProcess:
        process = ServiceProcess(old.service, old.env, tmp_path / f"{old.service}-again.log", port=old.port)
        started.append(process)
        return process.start()

    yield restart
    for process in started:
        process.stop()


def total_is(page: Page, total: int) -> float:
    """Seconds until the page shows `total` votes, from now."""
    start = time.monotonic()
    page.locator(f"#total:text-is('{total}')").wait_for(timeout=10_000)  # no eval: the page's CSP forbids it
    return time.monotonic() - start


def test_chart_updates_live_then_catches_up_after_a_restart(
    open_page: Callable[..., Page],
    stack: dict[str, ServiceProcess],
    restarted: Callable[[ServiceProcess], ServiceProcess],
) -> None:
    vote, result = stack["vote"].url, stack["result"]
    page = open_page(f"{result.url}/polls/pets", viewport=DESKTOP)
    expect(page.locator("#connection")).to_have_text(LIVE)
    page.evaluate("window.sameDocument = true")
    first_update = page.locator("#as-of").get_attribute("datetime")

    for option in ("Cats", "Cats", "Dogs"):
        cast(vote, "pets", option)
    elapsed = total_is(page, 3)

    assert elapsed < 1.0, f"the page showed the votes {elapsed:.2f} s after they were accepted"
    rows = page.locator("#results tbody tr")
    expect(rows.nth(0)).to_contain_text("Cats")
    expect(rows.nth(0).locator(".votes")).to_have_text("2")
    expect(rows.nth(0).locator(".percent")).to_have_text("66.7%")
    expect(rows.nth(1).locator(".percent")).to_have_text("33.3%")
    assert rows.nth(0).locator(".fill").get_attribute("width") == "66.7"
    assert page.locator("#as-of").get_attribute("datetime") != first_update
    assert page.evaluate("window.sameDocument") is True
    cast(vote, "pets", "Birds")
    total_is(page, 4)
    screenshot(page, "results-desktop")
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "results-phone")

    result.stop()
    expect(page.locator("#connection")).to_contain_text("reconnecting")
    for option in ("Dogs", "Dogs", "Dogs"):
        cast(vote, "pets", option)  # counted while the page cannot hear about it
    restarted(result)

    expect(page.locator("#connection")).to_have_text(LIVE)
    total_is(page, 7)
    expect(page.locator("#results tbody tr").nth(1).locator(".votes")).to_have_text("4")
    assert page.evaluate("window.sameDocument") is True  # reconnected by itself, never reloaded


def test_closed_poll_results_are_final_and_downloadable(
    open_page: Callable[..., Page], stack: dict[str, ServiceProcess]
) -> None:
    page = open_page(f"{stack['result'].url}/polls/offsite", viewport=PHONE)

    expect(page.locator(".window")).to_have_text(
        "Voting closed at 2001-01-01 00:00 UTC; these are the final results."
    )
    expect(page.locator("#connection")).to_have_text(LIVE)
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()
    assert download.value.suggested_filename.startswith("offsite-results-")
    lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert lines[0] == "poll,as_of,option,votes,percent" and len(lines) == 3
