"""The vote app factory: one Redis client and one small PostgreSQL pool per gunicorn worker."""

from __future__ import annotations

import os

from flask import Flask
from flask_wtf.csrf import CSRFProtect
from votingcommon.config import Env
from votingcommon.connections import PgPool, redis_client
from votingcommon.faults import FaultInjector
from votingcommon.health import HealthProbe
from votingcommon.web import install_common, register_blueprints
from werkzeug.middleware.proxy_fix import ProxyFix

from vote import api, pages
from vote.config import VoteConfig
from vote.queue import VoteQueue
from vote.ratelimit import VoteRateLimit
from vote.sessions import FormPageSessions
from vote.views import SERVICE, VoteDeps
from vote.voters import VoterCookies

# A vote is a few dozen bytes; anything much larger is refused with 413 before it is parsed.
MAX_BODY_BYTES = 4096


def create_app(env: Env | None = None) -> Flask:
    config = VoteConfig.from_env(os.environ if env is None else env)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=config.secret_key,
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.cookie_secure,
        WTF_CSRF_CHECK_DEFAULT=False,  # the form views check their token themselves (vote.pages)
    )
    app.session_interface = FormPageSessions()
    client = redis_client(config.redis)
    pool = PgPool(config.database_url, "vote", size=4)
    install_common(app, "vote", HealthProbe(client, pool))
    deps = VoteDeps(
        polls=config.polls,
        queue=VoteQueue(client, config.stream, config.redis.wait_replicas, config.redis.wait_timeout_ms),
        cookies=VoterCookies(config.secret_key, secure=config.cookie_secure),
        faults=FaultInjector(config.faults),
        pool=pool,
        rate_limit=VoteRateLimit(config.rate_limit),
        csrf=CSRFProtect(app),
    )
    register_blueprints(app, SERVICE, deps, (pages.bp, api.bp))
    if config.trusted_proxies:
        # Behind the ingress the peer is the controller: take the voter's address from the hops we trust.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=config.trusted_proxies)  # type: ignore[method-assign]
    return app
