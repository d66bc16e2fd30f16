"""`python -m result`: gunicorn in-process on RESULT_PORT (default 4000), threads for the SSE streams."""

import sys

from votingcommon.server import ServiceSpec, serve

from result.config import DEFAULT_THREADS, prepare_environment

SPEC = ServiceSpec(
    name="result",
    app_factory="result.app:create_app",
    port_variable="RESULT_PORT",
    default_port=4000,
    default_threads=DEFAULT_THREADS,
    prepare=prepare_environment,
    on_stop="result.app:end_streams",
)

if __name__ == "__main__":
    sys.exit(serve(SPEC))
