"""What vote and result share as Flask apps: request metrics, JSON errors, security headers, health."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from votingcommon import metrics
from votingcommon.health import HealthProbe

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


def mark_error(reason: str) -> None:
    """Name the cause of the 5xx being answered, for vote_errors_total{reason}."""
    g.error_reason = reason


# Probes and scrapes are not user traffic: counting them would dilute the error ratio canaries are judged on.
UNTRACKED_ROUTES = frozenset({"/healthz", "/readyz", "/health", "/metrics"})


def install_common(app: Flask, service: str, probe: HealthProbe) -> None:
    def start_timer() -> None:
        g.started = time.perf_counter()

    def record(response: Response) -> Response:
        route = request.url_rule.rule if request.url_rule else "unmatched"
        if route in UNTRACKED_ROUTES:
            return response
        code = response.status_code
        requests, duration = _request_metrics(service, request.method, route, code)
        requests.inc()
        duration.observe(time.perf_counter() - g.get("started", 0.0))
        if code >= 500:
            metrics.ERRORS.labels(service, g.get("error_reason", f"http_{code}")).inc()
        return response

    app.wsgi_app = SecurityHeaders(app.wsgi_app)  # type: ignore[method-assign]
    app.before_request(start_timer)
    app.after_request(record)
    app.register_error_handler(HTTPException, json_http_error)
    app.register_error_handler(Exception, unexpected_error)
    _add_health_routes(app, probe)


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
    log.exception("unhandled error on %s %s", request.method, request.path)
    mark_error("internal")
    return error_response(500, "internal error")


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
