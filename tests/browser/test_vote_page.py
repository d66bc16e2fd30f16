"""The vote page in Chromium: phone-sized, keyboard, no reload with JavaScript, plain form without it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from browsertools import DESKTOP, PHONE, POLLS_FILE, counts, screenshot
from playwright.sync_api import Page, expect
from votectl.localstack import RedisServer, ServiceProcess
from votectl.localstack.ports import wait_until


def pressed(page: Page) -> list[str]:
    return page.locator('button[aria-pressed="true"]').all_inner_texts()


def test_phone_vote_confirm_and_change(
    open_page: Callable[..., Page], stack: dict[str, ServiceProcess]
) -> None:
    page = open_page(f"{stack['vote'].url}/polls/lunch", viewport=PHONE)
    expect(page.get_by_role("heading", level=1)).to_have_text("What's for lunch?")
    expect(page.get_by_text("You have not voted yet.")).to_be_visible()
    page.evaluate("window.sameDocument = true")  # lost on any reload
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling
    for box in (button.bounding_box() for button in page.get_by_role("button").all()):
        assert box is not None and box["height"] >= 48 and box["width"] >= 300  # large touch targets

    page.get_by_role("button", name="Sushi").click()
    expect(page.get_by_role("status").filter(has_text="Your vote for Sushi was received.")).to_be_visible()
    expect(page.locator("#choice-line")).to_have_text(
        "Your vote: Sushi. You can change it at any time; the last one counts."
    )
    assert pressed(page) == ["Sushi"]

    page.keyboard.press("Shift+Tab")  # change it with the keyboard: from Sushi back to Pizza
    assert page.evaluate("document.activeElement.value") == "Pizza"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    page.keyboard.press("Enter")
    expect(page.locator("#notice")).to_have_text("Your vote for Pizza was received.")
    assert pressed(page) == ["Pizza"]
    assert page.evaluate("window.sameDocument") is True
    screenshot(page, "vote-phone")

    # The worker applies the last vote only; a reload then shows it as the recorded choice.
    result_url = stack["result"].url
    assert wait_until(lambda: counts(result_url, "lunch") == {"Pizza": 1, "Sushi": 0, "Salad": 0}, 10)
    page.reload()
    expect(page.locator("#choice-line")).to_contain_text("Your vote: Pizza.")
    assert pressed(page) == ["Pizza"]


def test_vote_without_javascript(open_page: Callable[..., Page], stack: dict[str, ServiceProcess]) -> None:
    page = open_page(f"{stack['vote'].url}/polls/lunch", viewport=DESKTOP, javascript=False)

    page.get_by_role("button", name="Salad").click()

    expect(page.locator("#notice")).to_have_text("Your vote for Salad was received.")
    assert pressed(page) == ["Salad"]
    screenshot(page, "vote-desktop")


def test_closed_poll_shows_its_message_and_no_vote_button(
    open_page: Callable[..., Page], stack: dict[str, ServiceProcess]
) -> None:
    page = open_page(f"{stack['vote'].url}/polls/offsite", viewport=PHONE)

    expect(page.locator("#closed")).to_have_text("Voting on this poll closed at 2001-01-01 00:00 UTC.")
    expect(page.get_by_role("button")).to_have_count(0)
    screenshot(page, "vote-closed-phone")


def test_errors_are_readable_sentences(
    open_page: Callable[..., Page],
    start_service: Callable[..., ServiceProcess],
    server_dir: Path,
) -> None:
    """Redis down and the rate limit, through the JavaScript path: a sentence, never raw JSON."""
    with RedisServer(server_dir) as redis_server:
        # Windows are fixed and aligned to the clock: a minute's would roll over mid-test now and then
        # (CI saw Salad let through); a year's (360 days in `limits`) does not.
        limited = {"VOTE_RATE_LIMIT": "2 per year", "POLLS_FILE": str(POLLS_FILE)}
        vote = start_service("vote", REDIS_URL=redis_server.url, **limited)
        page = open_page(f"{vote.url}/polls/lunch", viewport=PHONE)
        page.get_by_role("button", name="Pizza").click()
        expect(page.locator("#notice")).to_have_text("Your vote for Pizza was received.")

        redis_server.stop()
        page.get_by_role("button", name="Sushi").click()
        expect(page.get_by_role("alert")).to_have_text(
            "Votes cannot be recorded right now; please try again in a few seconds."
        )
        expect(page.locator("#notice")).to_be_hidden()
        assert pressed(page) == ["Pizza"]  # the recorded choice is still the one shown

        page.get_by_role("button", name="Salad").click()
        expect(page.get_by_role("alert")).to_have_text(
            "Too many votes from your address; please wait a moment."
        )
        screenshot(page, "vote-error-phone")
