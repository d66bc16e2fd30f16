"""Security headers and the strict CSP on every answer; pages load only the service's own static files."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
VOTE_PATHS = ["/", "/polls/lunch", "/polls/offsite", "/polls/nope", "/static/vote.js", "/static/vote.css"]
RESULT_PATHS = ["/", "/polls/offsite", "/api/polls/pets/results.json", "/static/results.js", "/healthz"]


def csp(response) -> dict[str, str]:
    directives = (
        part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";")
    )
    return {name: value for name, value in directives}


def check_headers(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    # only the unknown poll is a 404: a missing asset or a broken page must not pass as "has the headers"
    assert response.status_code == (404 if path.endswith("/nope") else 200), path
    for name, value in EXPECTED.items():
        assert response.headers[name] == value, (path, name)
    policy = csp(response)
    assert policy["default-src"] == "'self'" and policy["object-src"] == "'none'"
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"  # no inline, no CDN
    assert policy["frame-ancestors"] == "'none'" and policy["base-uri"] == "'none'"
    return response.text


def check_page_assets(html: str) -> None:
    """Every script and stylesheet is a file of this service; no inline script, style or handler."""
    scripts = re.findall(r"<script([^>]*)>", html)
    assert scripts and all(re.search(r'src="/static/[\w.-]+\.js"', attrs) for attrs in scripts)
    assert re.findall(r'<link rel="stylesheet" href="(/static/[\w.-]+\.css)">', html)
    assert not re.search(r"\son\w+=|style=|https?://", html)


@pytest.mark.parametrize("path", VOTE_PATHS)
def test_vote_headers(vote_client: FlaskClient, path: str) -> None:
    text = check_headers(vote_client, path)
    if not path.startswith("/static/"):
        check_page_assets(text)


@pytest.mark.parametrize("path", RESULT_PATHS)
def test_result_headers(result_client: FlaskClient, path: str) -> None:
    text = check_headers(result_client, path)
    if path.startswith("/polls/") or path == "/":
        check_page_assets(text)


def test_api_errors_carry_the_headers_too(vote_client: FlaskClient) -> None:
    response = vote_client.post("/api/polls/offsite/vote", json={"option": "Lisbon"})
    assert response.status_code == 409
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_pages_are_labelled_for_assistive_technology(
    vote_client: FlaskClient, result_client: FlaskClient
) -> None:
    vote_page = vote_client.get("/polls/lunch").text
    assert '<html lang="en">' in vote_page
    assert 'role="group" aria-labelledby="question"' in vote_page
    assert 'role="alert"' in vote_page and 'role="status"' in vote_page  # where JS writes its messages
    result_page = result_client.get("/polls/lunch").text
    assert 'id="connection" class="connection" role="status"' in result_page
    assert '<th scope="row">' in result_page and 'aria-hidden="true"' in result_page  # bars are decoration
