"""The result app factory: a PostgreSQL pool and one tally listener per gunicorn worker."""

from __future__ import annotations

import os
import threading

from flask import Flask
from votingcommon.config import Env
from votingcommon.connections import PgPool, redis_client
from votingcommon.faults import FaultInjector
from votingcommon.health import HealthProbe
from votingcommon.web import install_common, register_blueprints

from result import api, pages, stream
from result.config import ResultConfig
from result.hub import TallyHub
from result.views import SERVICE, ResultDeps


def create_app(env: Env | None = None) -> Flask:
    config = ResultConfig.from_env(os.environ if env is None else env)
    app = Flask(__name__)
    pool = PgPool(config.database_url, "result", size=8)
    install_common(app, "result", HealthProbe(redis_client(config.redis), pool))
    result_deps = ResultDeps(
        pool=pool,
        polls=config.polls,
        hub=TallyHub(config.database_url, pool, config.polls, config.refresh_interval),
        faults=FaultInjector(config.faults),
        stream_slots=threading.BoundedSemaphore(config.max_streams),
    )
    register_blueprints(app, SERVICE, result_deps, (pages.bp, api.bp, stream.bp))
    return app


def end_streams(app: Flask) -> None:
    """The worker is stopping (the spec's on_stop), or a test is done with the app: every open SSE stream
    ends now, and the hub's listener stops instead of reconnecting to a database that may be gone."""
    app.extensions[SERVICE].hub.close()
