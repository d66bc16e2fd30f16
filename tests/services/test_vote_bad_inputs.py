"""Every malformed request gets the right 4xx with an error message, never a 5xx, and enqueues nothing."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
import redis
from flask.testing import FlaskClient
from itsdangerous import Signer
from servicetools import SECRET, csrf_token
from vote.app import MAX_BODY_BYTES, create_app
from vote.voters import COOKIE_NAME
from werkzeug.test import TestResponse

Send = Callable[[FlaskClient, str], TestResponse]


def api(body: object) -> Send:
    return lambda client, _token: client.post("/api/vote", json=body)


def api_raw(data: bytes | str, content_type: str | None = "application/json") -> Send:
    headers = {"Content-Type": content_type} if content_type else {}
    return lambda client, _token: client.post("/api/vote", data=data, headers=headers)


def with_cookie(value: str) -> Send:
    def send(client: FlaskClient, _token: str) -> TestResponse:
        client.set_cookie(COOKIE_NAME, value)
        return client.post("/api/vote", json={"option": "Cats"})

    return send


def form(data: dict[str, str], with_token: bool = True) -> Send:
    def send(client: FlaskClient, token: str) -> TestResponse:
        return client.post("/", data={**data, **({"csrf_token": token} if with_token else {})})

    return send


FOREIGN_SIGNER = Signer("another-secret-key-0123456789", salt="voter-id", digest_method=hashlib.sha256)
# Correctly signed with the service's key, but not an id the service could have issued.
SIGNER_BAD_ID = Signer(SECRET, salt="voter-id", digest_method=hashlib.sha256).sign("x y").decode()

# (case, request, expected status, answered as JSON (API) or as a readable page (form))
CASES: list[tuple[str, Send, int, bool]] = [
    ("unknown option", api({"option": "Birds"}), 400, True),
    ("option in the wrong case", api({"option": "cats"}), 400, True),
    ("option with spaces", api({"option": " Cats"}), 400, True),
    ("option with a NUL byte", api({"option": "Cats\x00"}), 400, True),
    ("missing option", api({}), 400, True),
    ("empty option", api({"option": ""}), 400, True),
    ("null option", api({"option": None}), 400, True),
    ("number as option", api({"option": 1}), 400, True),
    ("list as option", api({"option": ["Cats"]}), 400, True),
    ("JSON array body", api([{"option": "Cats"}]), 400, True),
    ("JSON string body", api("Cats"), 400, True),
    ("unexpected field", api({"option": "Cats", "admin": True}), 400, True),
    ("unknown poll", api({"option": "Cats", "poll": "other"}), 400, True),
    ("malformed JSON", api_raw('{"option": "Cats"'), 400, True),
    ("empty JSON body", api_raw(""), 400, True),
    ("invalid UTF-8", api_raw(b'{"option": "\xff"}'), 400, True),
    ("text/plain body", api_raw('{"option": "Cats"}', "text/plain"), 415, True),
    ("form-encoded body to the API", api_raw("option=Cats", "application/x-www-form-urlencoded"), 415, True),
    ("no content type", api_raw('{"option": "Cats"}', None), 415, True),
    ("oversized body", api_raw('{"option": "' + "C" * MAX_BODY_BYTES + '"}'), 413, True),
    ("oversized option", api({"option": "C" * 300}), 413, True),
    ("cookie without signature", with_cookie("abcdefghijklmnopqrstuv"), 400, True),
    (
        "cookie with a forged signature",
        with_cookie("abcdefghijklmnopqrstuv.AAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        400,
        True,
    ),
    (
        "cookie signed with another key",
        with_cookie(FOREIGN_SIGNER.sign("abcdefghijklmnopqrstuv").decode()),
        400,
        True,
    ),
    ("cookie with a signed bad voter id", with_cookie(SIGNER_BAD_ID), 400, True),
    ("GET on the API", lambda client, _token: client.get("/api/vote"), 405, True),
    ("PUT on the API", lambda client, _token: client.put("/api/vote", json={"option": "Cats"}), 405, True),
    ("unknown path", lambda client, _token: client.post("/api/votes", json={"option": "Cats"}), 404, True),
    ("form without CSRF token", form({"option": "Cats"}, with_token=False), 400, False),
    (
        "form with a wrong CSRF token",
        lambda c, _t: c.post("/", data={"option": "Cats", "csrf_token": "x"}),
        400,
        False,
    ),
    ("form with an unknown option", form({"option": "Birds"}), 400, False),
    ("form without option", form({}), 400, False),
    ("form with an oversized option", form({"option": "C" * 300}), 413, False),
    ("form with an oversized body", form({"option": "Cats", "padding": "x" * MAX_BODY_BYTES}), 413, False),
    ("PUT on the form page", lambda client, _token: client.put("/", data={"option": "Cats"}), 405, False),
]


@pytest.mark.parametrize(("send", "status", "as_json"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_refused(
    service_env: dict[str, str], redis_conn: redis.Redis, send: Send, status: int, as_json: bool
) -> None:
    client = create_app(service_env).test_client()
    token = csrf_token(client.get("/").text)

    response = send(client, token)

    assert response.status_code == status
    if as_json:
        assert response.is_json and isinstance(response.json["error"], str) and response.json["error"]
    else:
        assert response.content_type.startswith("text/html")
        assert 'class="error"' in response.text
        assert "Traceback" not in response.text
    assert redis_conn.xlen("votes") == 0


def test_the_table_is_big_enough() -> None:
    assert len(CASES) >= 20
