"""Every Prometheus metric of the platform, declared once, and the /metrics rendering.

Import this module only after `votingcommon.server` has set PROMETHEUS_MULTIPROC_DIR: prometheus-client
chooses between in-process and multiprocess values when the first metric is created.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as _multiprocess
from prometheus_client import values as _values

_pid = os.getpid()


def _refresh_pid() -> None:
    global _pid
    _pid = os.getpid()


def _current_pid() -> int:
    return _pid


# In multiprocess mode every increment asks for the process id, to notice a fork; os.getpid() is a system call
# (glibc no longer caches it), a few of them per request. The id is read once and again in each forked child.
os.register_at_fork(after_in_child=_refresh_pid)
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    _values.ValueClass = _values.MultiProcessValue(process_identifier=_current_pid)

REQUESTS = Counter("vote_requests", "HTTP requests answered", ["service", "method", "route", "code"])
ERRORS = Counter("vote_errors", "Every 5xx answer and every failed enqueue, by cause", ["service", "reason"])
REQUEST_DURATION = Histogram(
    "vote_request_duration_seconds",
    "Time to answer an HTTP request",
    ["service", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
ENQUEUED = Counter("votes_enqueued", "Votes Redis acknowledged", ["option"])
PROCESSED = Counter("votes_processed", "Stream entries committed to PostgreSQL and acknowledged")
BATCH_SIZE = Histogram(
    "worker_batch_size", "Entries per applied batch", buckets=(1, 10, 50, 100, 250, 500, 1000, 2000)
)
VOTE_LAG = Histogram(
    "worker_vote_lag_seconds",
    "From the vote service accepting a vote to its commit in PostgreSQL",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)
STREAM_PENDING = Gauge(
    "worker_stream_pending", "Entries delivered but not yet acknowledged", multiprocess_mode="mostrecent"
)
STREAM_BACKLOG = Gauge(
    "worker_stream_backlog", "Entries not yet delivered to any worker", multiprocess_mode="mostrecent"
)
DEAD_LETTERED = Counter("votes_dead_lettered", "Entries moved to the dead-letter stream")
WORKER_ERRORS = Counter("worker_errors", "Failures the worker retried or dead-lettered", ["reason"])
DB_CONNECTIONS_IN_USE = Gauge(
    "db_connections_in_use", "PostgreSQL connections checked out", ["service"], multiprocess_mode="livesum"
)


def render() -> tuple[bytes, str]:
    """Merge every gunicorn worker's values when running multiprocess, else read this process's registry."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        _multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
