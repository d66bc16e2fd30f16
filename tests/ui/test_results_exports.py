"""Per-poll results on the result service: JSON, CSV and JSON downloads with poll id and snapshot time."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient


def recent(stamp: str) -> bool:
    moment = datetime.fromisoformat(stamp)
    return abs(datetime.now(UTC) - moment) < timedelta(seconds=60)


def test_each_poll_has_its_own_results(result_client: FlaskClient, set_tallies: Callable) -> None:
    set_tallies("pets", Cats=3, Dogs=1)
    set_tallies("lunch", Sushi=2)

    pets = result_client.get("/api/polls/pets/results").json
    lunch = result_client.get("/api/polls/lunch/results").json

    assert pets["options"] == [
        {"option": "Cats", "votes": 3, "percent": 75.0},
        {"option": "Dogs", "votes": 1, "percent": 25.0},
        {"option": "Birds", "votes": 0, "percent": 0.0},
    ]
    assert pets["total"] == 4
    assert [(o["option"], o["votes"]) for o in lunch["options"]] == [("Pizza", 0), ("Sushi", 2), ("Salad", 0)]
    assert result_client.get("/api/results").json["options"] == pets["options"]  # the first poll


def test_closed_poll_results_stay_readable(result_client: FlaskClient, set_tallies: Callable) -> None:
    set_tallies("offsite", Lisbon=5, Tallinn=7)

    assert result_client.get("/api/polls/offsite/results").json["total"] == 12
    page = result_client.get("/polls/offsite")
    assert page.status_code == 200
    assert "Voting closed at 2001-01-01 00:00 UTC; these are the final results." in page.text
    assert '<td class="votes">7</td>' in page.text


def test_json_export(result_client: FlaskClient, set_tallies: Callable) -> None:
    set_tallies("lunch", Pizza=1, Salad=2)

    response = result_client.get("/api/polls/lunch/results.json")

    assert response.status_code == 200
    assert response.content_type == "application/json"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="lunch-results-') and disposition.endswith('Z.json"')
    body = json.loads(response.text)
    assert (body["poll"], body["question"], body["total"]) == ("lunch", "What's for lunch?", 3)
    assert [(o["option"], o["votes"], o["percent"]) for o in body["options"]] == [
        ("Pizza", 1, 33.3),
        ("Sushi", 0, 0.0),
        ("Salad", 2, 66.7),
    ]
    assert recent(body["as_of"])


def test_csv_export(result_client: FlaskClient, set_tallies: Callable) -> None:
    set_tallies("pets", Dogs=2)

    response = result_client.get("/api/polls/pets/results.csv")

    assert response.content_type == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].endswith('Z.csv"')
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["poll"], r["option"], r["votes"], r["percent"]) for r in rows] == [
        ("pets", "Cats", "0", "0.0"),
        ("pets", "Dogs", "2", "100.0"),
        ("pets", "Birds", "0", "0.0"),
    ]
    assert len({r["as_of"] for r in rows}) == 1 and recent(rows[0]["as_of"])


def test_default_csv_keeps_its_original_shape(result_client: FlaskClient, set_tallies: Callable) -> None:
    set_tallies("pets", Birds=1)
    assert result_client.get("/api/results.csv").text == "option,votes\nCats,0\nDogs,0\nBirds,1\n"


def test_results_page_links_its_exports_and_stream(result_client: FlaskClient) -> None:
    page = result_client.get("/polls/lunch").text
    assert 'href="/api/polls/lunch/results.csv" download' in page
    assert 'href="/api/polls/lunch/results.json" download' in page
    assert 'data-stream="/api/polls/lunch/results/stream"' in page
    assert 'data-stream="/api/polls/pets/results/stream"' in result_client.get("/").text  # the first poll


def test_poll_stream_starts_with_that_polls_snapshot(
    result_client: FlaskClient, set_tallies: Callable
) -> None:
    set_tallies("lunch", Salad=4)

    response = result_client.get("/api/polls/lunch/results/stream", buffered=False)
    first = next(iter(response.response))
    response.close()

    text = first.decode() if isinstance(first, bytes) else first
    data = next(line for line in text.splitlines() if line.startswith("data: "))
    assert json.loads(data[len("data: ") :])["options"][2] == {
        "option": "Salad",
        "votes": 4,
        "percent": 100.0,
    }


def test_unknown_poll_is_a_json_404(result_client: FlaskClient) -> None:
    for path in ("/api/polls/nope/results", "/api/polls/nope/results.csv", "/api/polls/nope/results/stream"):
        response = result_client.get(path)
        assert response.status_code == 404
        assert response.json == {"error": "there is no poll 'nope'"}
