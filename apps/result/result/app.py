"""The result app factory: a PostgreSQL pool and one tally listener per gunicorn worker."""

from __future__ import annotations

import os

from flask import Flask
from votingcommon.config import Env
from votingcommon.connections import PgPool, redis_client
from votingcommon.faults import FaultInjector
from votingcommon.health import HealthProbe
from votingcommon.server import on_worker_stop
from votingcommon.web import install_common

from result.config import ResultConfig
from result.hub import TallyHub
from result.views import register_views


def create_app(env: Env | None = None) -> Flask:
    config = ResultConfig.from_env(os.environ if env is None else env)
    app = Flask(__name__)
    pool = PgPool(config.database_url, "result", size=8)
    install_common(app, "result", HealthProbe(redis_client(config.redis), pool))
    hub = TallyHub(config.database_url, pool, config.polls, config.refresh_interval)
    on_worker_stop(hub.close)
    app.extensions["tally_hub"] = hub  # for whoever runs the app in process (tests) to close it
    faults = FaultInjector(config.faults)
    register_views(app, pool, config.polls, hub, config.max_streams, faults)
    return app
