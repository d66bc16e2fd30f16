"""`python -m vote`: gunicorn in-process on VOTE_PORT (default 5000)."""

import sys

from votingcommon.server import ServiceSpec, serve

from vote.config import prepare_environment

SPEC = ServiceSpec(
    name="vote",
    app_factory="vote.app:create_app",
    port_variable="VOTE_PORT",
    default_port=5000,
    default_threads=16,  # concurrent requests share Redis round trips (see vote.queue)
    prepare=prepare_environment,
)

if __name__ == "__main__":
    sys.exit(serve(SPEC))
