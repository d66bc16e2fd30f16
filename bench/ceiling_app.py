"""The ceiling for benchmark 1: a trivial Flask endpoint served exactly like vote (same gunicorn settings).

`python -m bench.ceiling_app` reuses vote's ServiceSpec, so workers, worker class, threads and keep-alive
cannot drift from what vote runs with; only the app differs (no validation, cookie, Redis or metrics).
"""

from __future__ import annotations

import dataclasses
import sys

from flask import Flask
from vote.__main__ import SPEC as VOTE_SPEC
from votingcommon.server import serve

SPEC = dataclasses.replace(
    VOTE_SPEC,
    name="ceiling",
    app_factory="bench.ceiling_app:create_app",
    port_variable="CEILING_PORT",
    prepare=lambda env: None,
)


def create_app() -> Flask:
    app = Flask(__name__)

    @app.post("/api/vote")
    def api_vote() -> tuple[dict[str, object], int]:
        return {"accepted": True, "id": "0-0"}, 202

    @app.get("/readyz")
    def readyz() -> dict[str, str]:
        return {"status": "ready"}

    return app


if __name__ == "__main__":
    sys.exit(serve(SPEC))
