"""What the browser tests share besides fixtures: viewports, the polls file, screenshots, API shortcuts."""

from __future__ import annotations

from pathlib import Path

import requests
from playwright.sync_api import Page

POLLS_FILE = Path(__file__).parents[1] / "ui" / "polls.yaml"
SCREENSHOTS = Path(__file__).parents[2] / "test-artifacts" / "screenshots"
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}


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
