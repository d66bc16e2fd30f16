"""Voting per poll: own page and API, the window enforced (409, nothing enqueued), readable form errors."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from collections.abc import Callable

import pytest
import redis
from flask.testing import FlaskClient
from uitools import POLLS_FILE
from vote.app import create_app as create_vote_app
from votectl.localstack import ServiceProcess


def entries(redis_url: str) -> list[dict[str, str]]:
    with redis.Redis.from_url(redis_url, decode_responses=True) as client:
        return [fields for _id, fields in client.xrange("votes")]


def csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def test_each_poll_has_its_own_api(vote_client: FlaskClient, redis_url: str) -> None:
    assert vote_client.post("/api/polls/lunch/vote", json={"option": "Sushi"}).status_code == 202
    assert vote_client.post("/api/vote", json={"option": "Dogs"}).status_code == 202  # the first poll
    assert vote_client.post("/api/vote", json={"poll": "lunch", "option": "Salad"}).status_code == 202

    assert [(e["poll"], e["option"]) for e in entries(redis_url)] == [
        ("lunch", "Sushi"),
        ("pets", "Dogs"),
        ("lunch", "Salad"),
    ]
    assert len({e["voter"] for e in entries(redis_url)}) == 1


@pytest.mark.parametrize(
    ("path", "body", "status", "error"),
    [
        ("/api/polls/lunch/vote", {"option": "Dogs"}, 400, "unknown option"),
        ("/api/polls/nope/vote", {"option": "Dogs"}, 404, "there is no poll 'nope'"),
        ("/api/polls/lunch/vote", {"poll": "pets", "option": "Dogs"}, 400, "the poll in the body differs"),
        ("/api/vote", {"poll": "nope", "option": "Dogs"}, 400, "unknown poll"),
        ("/api/vote", {"poll": 7, "option": "Dogs"}, 400, "poll must be a string"),
        (
            "/api/polls/offsite/vote",
            {"option": "Lisbon"},
            409,
            "Voting on this poll closed at 2001-01-01 00:00 UTC.",
        ),
        ("/api/vote", {"poll": "offsite", "option": "Lisbon"}, 409, "Voting on this poll closed at"),
        (
            "/api/polls/retro/vote",
            {"option": "Yes"},
            409,
            "Voting on this poll opens at 2999-06-01 09:00 UTC.",
        ),
    ],
)
def test_refused_votes_enqueue_nothing(
    vote_client: FlaskClient, redis_url: str, path: str, body: dict, status: int, error: str
) -> None:
    response = vote_client.post(path, json=body)

    assert response.status_code == status
    assert response.json["error"].startswith(error)
    assert entries(redis_url) == []


def test_closed_poll_page_has_its_message_and_no_form(vote_client: FlaskClient) -> None:
    page = vote_client.get("/polls/offsite")

    assert page.status_code == 200
    assert "Voting on this poll closed at 2001-01-01 00:00 UTC." in page.text
    assert "<form" not in page.text and "<button" not in page.text


def test_upcoming_poll_page_says_when_it_opens(vote_client: FlaskClient) -> None:
    page = vote_client.get("/polls/retro").text
    assert "Voting on this poll opens at 2999-06-01 09:00 UTC." in page
    assert "<button" not in page


def test_open_poll_page_and_form_vote(vote_client: FlaskClient, redis_url: str) -> None:
    page = vote_client.get("/polls/lunch")
    assert page.status_code == 200
    assert "Voting closes at" in page.text
    assert 'data-api="/api/polls/lunch/vote"' in page.text
    assert page.text.count('<button type="submit" name="option"') == 3

    response = vote_client.post("/polls/lunch", data={"option": "Pizza", "csrf_token": csrf(page.text)})

    assert response.status_code == 200
    assert "Your vote for Pizza was received." in response.text
    assert 'value="Pizza" class="chosen" aria-pressed="true"' in response.text
    assert [(e["poll"], e["option"]) for e in entries(redis_url)] == [("lunch", "Pizza")]


def test_form_vote_needs_the_csrf_token(vote_client: FlaskClient, redis_url: str) -> None:
    response = vote_client.post("/polls/lunch", data={"option": "Pizza"})
    assert response.status_code == 400
    assert response.content_type.startswith("text/html")
    assert "Your vote could not be read" in response.text
    assert entries(redis_url) == []


def test_form_vote_on_a_closed_poll_is_a_readable_409(vote_client: FlaskClient, redis_url: str) -> None:
    token = csrf(vote_client.get("/polls/lunch").text)  # one session token serves every poll page

    response = vote_client.post("/polls/offsite", data={"option": "Lisbon", "csrf_token": token})

    assert response.status_code == 409
    assert response.content_type.startswith("text/html")
    assert response.text.count("Voting on this poll closed at 2001-01-01 00:00 UTC.") == 2  # alert + notice
    assert entries(redis_url) == []


def test_unknown_poll_page_is_a_readable_404(vote_client: FlaskClient) -> None:
    response = vote_client.get("/polls/nope")
    assert response.status_code == 404
    assert response.content_type.startswith("text/html")
    assert "Poll not found" in response.text and 'href="/polls/lunch"' in response.text


def test_form_rate_limit_is_a_readable_429(ui_env: dict[str, str], redis_url: str) -> None:
    client = create_vote_app({**ui_env, "VOTE_RATE_LIMIT": "1 per minute"}).test_client()
    token = csrf(client.get("/polls/lunch").text)
    client.post("/polls/lunch", data={"option": "Pizza", "csrf_token": token})

    response = client.post("/polls/lunch", data={"option": "Sushi", "csrf_token": token})

    assert response.status_code == 429
    assert "Too many votes from your address" in response.text
    assert int(response.headers["Retry-After"]) >= 1
    assert len(entries(redis_url)) == 1


def test_one_current_vote_per_voter_per_poll(
    vote_client: FlaskClient, start_services: Callable[..., list[ServiceProcess]]
) -> None:
    """Through the real worker and result processes: changing a vote in one poll never touches another."""
    votes = [("pets", "Cats"), ("lunch", "Pizza"), ("pets", "Dogs"), ("lunch", "Salad"), ("pets", "Birds")]
    for poll, option in votes:
        assert vote_client.post(f"/api/polls/{poll}/vote", json={"option": option}).status_code == 202

    _worker, result = start_services("worker", "result", POLLS_FILE=str(POLLS_FILE))

    expected = {"pets": {"Cats": 0, "Dogs": 0, "Birds": 1}, "lunch": {"Pizza": 0, "Sushi": 0, "Salad": 1}}
    assert _wait_for_tallies(result.url, expected) == expected


def _wait_for_tallies(url: str, expected: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    deadline = time.monotonic() + 15
    while True:
        seen = {}
        for poll in expected:
            with urllib.request.urlopen(f"{url}/api/polls/{poll}/results", timeout=5) as response:
                body = json.load(response)
            seen[poll] = {item["option"]: item["votes"] for item in body["options"]}
        if seen == expected or time.monotonic() > deadline:
            return seen
        time.sleep(0.05)
