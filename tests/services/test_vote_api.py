"""The vote service through Flask's test client, against a real Redis and PostgreSQL."""

from __future__ import annotations

import threading
import time

import pytest
import redis
from servicetools import csrf_token, metric, stream_votes
from vote.app import create_app
from vote.ratelimit import VoteRateLimit
from vote.voters import COOKIE_NAME
from votingcommon.connections import PgPool
from votingcommon.votes import decode, parse_stream_id
from werkzeug.exceptions import TooManyRequests
from worker.apply import Entry, apply_batch


def test_json_vote_is_enqueued_before_202(service_env: dict[str, str], redis_conn: redis.Redis) -> None:
    client = create_app(service_env).test_client()
    before = metric("votes_enqueued_total", option="Dogs")

    response = client.post("/api/vote", json={"option": "Dogs"})

    assert response.status_code == 202
    assert response.json["accepted"] is True
    entries = redis_conn.xrange("votes")
    assert [entry_id.decode() for entry_id, _ in entries] == [response.json["id"]]
    vote = stream_votes(redis_conn)[0]
    assert vote["poll"] == "default"
    assert vote["option"] == "Dogs"
    assert abs(int(vote["ts"]) - time.time() * 1000) < 60_000
    assert metric("votes_enqueued_total", option="Dogs") == before + 1


def test_voter_cookie_is_signed_httponly_lax_and_reused(
    service_env: dict[str, str], redis_conn: redis.Redis
) -> None:
    client = create_app(service_env).test_client()

    first = client.post("/api/vote", json={"option": "Cats"})
    header = first.headers["Set-Cookie"]
    second = client.post("/api/vote", json={"option": "Dogs"})

    assert "HttpOnly" in header and "SameSite=Lax" in header and "Secure" not in header
    cookie = client.get_cookie(COOKIE_NAME)
    assert cookie is not None
    voter, _, signature = cookie.value.rpartition(".")
    assert voter and signature
    assert "Set-Cookie" not in second.headers  # the known voter keeps its id
    assert [v["voter"] for v in stream_votes(redis_conn)] == [voter, voter]


def test_secure_cookie_when_configured(service_env: dict[str, str]) -> None:
    client = create_app({**service_env, "COOKIE_SECURE": "1"}).test_client()
    assert "Secure" in client.post("/api/vote", json={"option": "Cats"}).headers["Set-Cookie"]


def test_cookie_from_another_process_with_the_same_key_is_accepted(
    service_env: dict[str, str], redis_conn: redis.Redis
) -> None:
    """Several gunicorn workers share SECRET_KEY, so a voter may hit any of them."""
    first, second = create_app(service_env).test_client(), create_app(service_env).test_client()
    first.post("/api/vote", json={"option": "Cats"})
    second.set_cookie(COOKIE_NAME, first.get_cookie(COOKIE_NAME).value)

    assert second.post("/api/vote", json={"option": "Dogs"}).status_code == 202
    voters = {v["voter"] for v in stream_votes(redis_conn)}
    assert len(voters) == 1


def test_tampered_cookie_is_rejected_and_cleared(
    service_env: dict[str, str], redis_conn: redis.Redis
) -> None:
    client = create_app(service_env).test_client()
    client.post("/api/vote", json={"option": "Cats"})
    voter, _, signature = client.get_cookie(COOKIE_NAME).value.rpartition(".")
    client.set_cookie(COOKIE_NAME, f"{voter[:-1]}{'A' if voter[-1] != 'A' else 'B'}.{signature}")

    response = client.post("/api/vote", json={"option": "Dogs"})

    assert response.status_code == 400
    assert response.json == {"error": "invalid voter cookie"}
    assert f"{COOKIE_NAME}=;" in response.headers["Set-Cookie"]  # deleted, so the next visit starts fresh
    assert redis_conn.xlen("votes") == 1


def test_form_vote_with_csrf_token(service_env: dict[str, str], redis_conn: redis.Redis) -> None:
    client = create_app(service_env).test_client()
    page = client.get("/")
    assert page.status_code == 200
    assert "You have not voted yet" in page.text
    assert "<script>" not in page.text  # scripts only from /static (the CSP forbids inline ones)

    response = client.post("/", data={"option": "Cats", "csrf_token": csrf_token(page.text)})

    assert response.status_code == 200
    assert "Your vote for Cats was received" in response.text
    assert 'class="chosen"' in response.text
    assert [v["option"] for v in stream_votes(redis_conn)] == ["Cats"]


def test_page_shows_the_stored_choice(
    service_env: dict[str, str], redis_conn: redis.Redis, database_url: str, migrated: PgPool
) -> None:
    client = create_app({**service_env, "DATABASE_URL": database_url}).test_client()
    client.post("/api/vote", json={"option": "Dogs"})
    [(entry_id, fields)] = redis_conn.xrange("votes")
    with migrated.connection() as conn:
        apply_batch(conn, [Entry(entry_id.decode(), parse_stream_id(entry_id.decode()), decode(fields))])

    page = client.get("/")

    assert 'Your vote: <strong class="choice">Dogs</strong>' in page.text


def test_options_come_from_vote_options(service_env: dict[str, str], redis_conn: redis.Redis) -> None:
    client = create_app({**service_env, "VOTE_OPTIONS": "Tea, Coffee ,Water"}).test_client()
    page = client.get("/").text
    assert "Tea, Coffee or Water?" in page
    assert client.post("/api/vote", json={"option": "Coffee"}).status_code == 202
    assert client.post("/api/vote", json={"option": "Cats"}).status_code == 400


def test_redis_down_is_503_with_retry_after(service_env: dict[str, str], closed_port: int) -> None:
    client = create_app({**service_env, "REDIS_URL": f"redis://127.0.0.1:{closed_port}/0"}).test_client()
    before = metric("vote_errors_total", service="vote", reason="redis")

    response = client.post("/api/vote", json={"option": "Cats"})

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"
    assert "error" in response.json
    assert metric("vote_errors_total", service="vote", reason="redis") == before + 1
    assert client.get("/readyz").status_code == 503
    health = client.get("/health")
    assert health.status_code == 503
    assert health.json["redis"] == "disconnected" and health.json["database"] == "connected"


def test_form_shows_a_readable_message_when_redis_is_down(
    service_env: dict[str, str], closed_port: int
) -> None:
    client = create_app({**service_env, "REDIS_URL": f"redis://127.0.0.1:{closed_port}/0"}).test_client()
    token = csrf_token(client.get("/").text)

    response = client.post("/", data={"option": "Cats", "csrf_token": token})

    assert response.status_code == 503
    assert response.content_type.startswith("text/html")
    assert "Votes cannot be recorded right now" in response.text


def test_injected_faults_count_as_errors(service_env: dict[str, str], redis_conn: redis.Redis) -> None:
    client = create_app({**service_env, "VOTE_FAULT_RATE": "1"}).test_client()
    labels = {"service": "vote", "method": "POST", "route": "/api/vote", "code": "500"}
    errors, requests = (
        metric("vote_errors_total", service="vote", reason="injected"),
        metric("vote_requests_total", **labels),
    )

    response = client.post("/api/vote", json={"option": "Cats"})

    assert response.status_code == 500
    assert response.json == {"error": "injected fault"}
    assert metric("vote_errors_total", service="vote", reason="injected") == errors + 1
    assert metric("vote_requests_total", **labels) == requests + 1
    assert redis_conn.xlen("votes") == 0


def test_injected_latency(service_env: dict[str, str]) -> None:
    client = create_app({**service_env, "VOTE_FAULT_LATENCY_MS": "150"}).test_client()
    started = time.perf_counter()
    assert client.post("/api/vote", json={"option": "Cats"}).status_code == 202
    assert time.perf_counter() - started >= 0.15


def test_rate_limit_is_429(service_env: dict[str, str], redis_conn: redis.Redis) -> None:
    client = create_app({**service_env, "VOTE_RATE_LIMIT": "2 per minute"}).test_client()
    codes = [client.post("/api/vote", json={"option": "Cats"}).status_code for _ in range(3)]
    limited = client.post("/api/vote", json={"option": "Cats"})

    assert codes == [202, 202, 429]
    assert limited.status_code == 429
    assert limited.json == {"error": "too many votes from this address"}
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert redis_conn.xlen("votes") == 2
    assert client.get("/").status_code == 200  # only casting votes is limited


def test_rate_limit_counts_the_voter_behind_a_trusted_proxy(service_env: dict[str, str]) -> None:
    """Behind the ingress every request comes from the controller: TRUSTED_PROXIES counts per voter."""
    env = {**service_env, "VOTE_RATE_LIMIT": "1 per minute", "TRUSTED_PROXIES": "1"}
    client = create_app(env).test_client()

    def vote_from(address: str) -> int:
        headers = {"X-Forwarded-For": address}
        return client.post("/api/vote", json={"option": "Cats"}, headers=headers).status_code

    assert [vote_from("203.0.113.7"), vote_from("203.0.113.8"), vote_from("203.0.113.7")] == [202, 202, 429]


def test_forwarded_for_is_ignored_without_trusted_proxies(service_env: dict[str, str]) -> None:
    """A client cannot dodge the limit by inventing X-Forwarded-For when no proxy is trusted (the default)."""
    client = create_app({**service_env, "VOTE_RATE_LIMIT": "1 per minute"}).test_client()
    codes = [
        client.post("/api/vote", json={"option": "Cats"}, headers={"X-Forwarded-For": f"198.51.100.{i}"})
        for i in range(2)
    ]
    assert [response.status_code for response in codes] == [202, 429]


def test_health_endpoints(service_env: dict[str, str]) -> None:
    client = create_app(service_env).test_client()
    assert client.get("/healthz").json == {"status": "alive"}
    assert client.get("/readyz").status_code == 200
    health = client.get("/health").json
    assert health["status"] == "healthy"
    assert health["database"] == "connected" and health["redis"] == "connected"
    assert health["uptime"].endswith("s") and health["uptime"][:-1].isdigit()


def test_metrics_endpoint_exposes_the_contract(service_env: dict[str, str]) -> None:
    client = create_app(service_env).test_client()
    client.post("/api/vote", json={"option": "Cats"})
    text = client.get("/metrics").text
    for name in ("vote_requests_total", "vote_request_duration_seconds_bucket", "votes_enqueued_total"):
        assert name in text
    assert 'route="/api/vote"' in text


@pytest.mark.parametrize("path", ["/", "/api/vote", "/nope"])
def test_security_headers(service_env: dict[str, str], path: str) -> None:
    response = create_app(service_env).test_client().get(path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_rate_limit_windows_reset() -> None:
    limit = VoteRateLimit("2 per second")
    limit.check("10.0.0.1")
    limit.check("10.0.0.1")
    limit.check("10.0.0.2")  # counted per client
    with pytest.raises(TooManyRequests) as refused:
        limit.check("10.0.0.1")
    assert refused.value.retry_after == 1
    time.sleep(1.0 - time.time() % 1.0 + 0.01)  # the next one-second window
    limit.check("10.0.0.1")


def test_concurrent_votes_share_round_trips_and_each_gets_its_own_id(
    service_env: dict[str, str], redis_conn: redis.Redis
) -> None:
    app = create_app(service_env)
    answers: list[tuple[int, str]] = []

    def voter() -> None:
        client = app.test_client()
        for _ in range(25):
            response = client.post("/api/vote", json={"option": "Dogs"})
            answers.append((response.status_code, response.json.get("id", "")))

    threads = [threading.Thread(target=voter) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert {code for code, _ in answers} == {202}
    ids = [entry_id for _, entry_id in answers]
    assert len(set(ids)) == 400
    assert sorted(ids, key=parse_stream_id) == [i.decode() for i, _ in redis_conn.xrange("votes")]
    assert len({v["voter"] for v in stream_votes(redis_conn)}) == 16
