"""What vote and result share as Flask apps: request metrics, JSON errors, security headers, health."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.wrappers import Response as BaseResponse

from votingcommon import metrics
from votingcommon.health import HealthProbe
from votingcommon.polls import Poll, PollCatalog

log = logging.getLogger(__name__)

# Pages load only their own static files: no inline script or style, no third-party origin, no framing.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",  # the vote API (fetch) and the results stream (EventSource)
        "object-src 'none'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}


class SecurityHeaders:
    """WSGI middleware adding SECURITY_HEADERS to every answer, errors and static files included.

    One list concatenation per response: werkzeug's Headers.update costs ~9 µs for the seven headers,
    a few percent of a vote's whole CPU budget.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self._app = app
        self._headers = list(SECURITY_HEADERS.items())

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, headers + self._headers, exc_info)

        return self._app(environ, start)


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    response = jsonify(error=message)
    response.status_code = status
    response.headers.update(headers or {})
    return response


# Where mark_error leaves the cause of a 5xx for RequestMetrics (the WSGI environ outlives Flask's `g`).
ERROR_REASON_KEY = "votingcommon.error_reason"


def mark_error(reason: str) -> None:
    """Name the cause of the 5xx being answered, for vote_errors_total{reason}."""
    request.environ[ERROR_REASON_KEY] = reason


# Probes and scrapes are not user traffic: counting them would dilute the error ratio canaries are judged on.
UNTRACKED_ROUTES = frozenset({"/healthz", "/readyz", "/health", "/metrics"})


class RequestMetrics:
    """WSGI middleware counting and timing every answer by route and status, errors by cause.

    Done around Flask rather than in before/after-request hooks, which with `g` and the request proxies
    cost ~3 µs more per request (a vote request called in process: 93 -> 90 µs of CPU). The route is the
    matched URL rule of the request Flask built (werkzeug keeps that request in the environ)."""

    def __init__(self, app: Callable[..., Iterable[bytes]], service: str) -> None:
        self._app = app
        self._service = service

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        started = time.perf_counter()

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            self._record(environ, int(status[:3]), time.perf_counter() - started)
            return start_response(status, headers, exc_info)

        return self._app(environ, start)

    def _record(self, environ: dict[str, Any], code: int, seconds: float) -> None:
        flask_request = environ.get("werkzeug.request")
        rule = flask_request.url_rule if flask_request is not None else None
        route = rule.rule if rule else "unmatched"
        if route in UNTRACKED_ROUTES:
            return
        requests, duration = _request_metrics(self._service, environ["REQUEST_METHOD"], route, code)
        requests.inc()
        duration.observe(seconds)
        if code >= 500:
            metrics.ERRORS.labels(self._service, environ.get(ERROR_REASON_KEY, f"http_{code}")).inc()


def install_common(app: Flask, service: str, probe: HealthProbe) -> None:
    """The app-wide error handlers answer what no blueprint's handler sees: the probes, and requests that
    matched no route (404, 405), which belong to no blueprint (vote.pages claims its own URLs' 405s)."""
    app.wsgi_app = SecurityHeaders(RequestMetrics(app.wsgi_app, service))  # type: ignore[method-assign]
    app.register_error_handler(HTTPException, json_http_error)
    app.register_error_handler(Exception, unexpected_error)
    _add_health_routes(app, probe)


def register_blueprints(app: Flask, service: str, deps: object, blueprints: Iterable[Blueprint]) -> None:
    """vote and result alike: the views reach `deps` as `current_app.extensions[service]` (each service's
    `deps()` accessor), not through closures, so the blueprints are plain modules shared by every app."""
    app.extensions[service] = deps
    for blueprint in blueprints:
        app.register_blueprint(blueprint)


def json_errors(blueprint: Blueprint) -> None:
    """The blueprint answers its errors as `{"error": ...}` with werkzeug's status and headers."""
    blueprint.register_error_handler(HTTPException, json_http_error)
    blueprint.register_error_handler(Exception, unexpected_error)


@lru_cache(maxsize=1024)
def _request_metrics(service: str, method: str, route: str, code: int) -> tuple[Any, Any]:
    """The labelled children of one kind of request, looked up once: `labels()` costs a lock and a few µs."""
    return (
        metrics.REQUESTS.labels(service, method, route, str(code)),
        metrics.REQUEST_DURATION.labels(service, route),
    )


def error_message(err: HTTPException) -> str:
    """The specific description a view raised with, else the short status name ("not found")."""
    if err.description and err.description != type(err).description:
        return err.description
    return (err.name or "error").lower()


def json_http_error(err: HTTPException) -> BaseResponse:
    """Keep werkzeug's status and headers (Allow, Retry-After) but answer JSON."""
    response = err.get_response()
    response.set_data(jsonify(error=error_message(err)).get_data())
    response.content_type = "application/json"
    return response


def unexpected_error(err: Exception) -> Response:
    note_unexpected(err)
    return error_response(500, "internal error")


def note_unexpected(err: Exception) -> None:
    """Log a bug with its traceback and count it as an internal error, whatever the answer looks like."""
    log.exception("unhandled error on %s %s", request.method, request.path, exc_info=err)
    mark_error("internal")


def _add_health_routes(app: Flask, probe: HealthProbe) -> None:
    @app.get("/healthz")
    def healthz() -> Any:
        return {"status": "alive"}

    @app.get("/readyz")
    def readyz() -> Any:
        body, ready = probe.report()
        return body, 200 if ready else 503

    @app.get("/health")
    def health() -> Any:
        body, healthy = probe.report()
        return body, 200 if healthy else 503

    @app.get("/metrics")
    def metrics_endpoint() -> Response:
        payload, content_type = metrics.render()
        return Response(payload, content_type=content_type)


def poll_or_404(polls: PollCatalog, poll_id: str) -> Poll:
    """The poll a URL names; an unknown id is a 404 (JSON or HTML, by the blueprint's error handlers)."""
    poll = polls.get(poll_id)
    if poll is None:
        raise NotFound(f"there is no poll {poll_id!r}")
    return poll
