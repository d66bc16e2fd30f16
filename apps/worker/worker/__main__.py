"""`python -m worker`: the stream consumer plus its status port (WORKER_PORT, default 9000)."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading

# One process: metrics stay in memory even when the image sets a multiprocess directory for the web services.
os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)

from votingcommon.config import ConfigError
from votingcommon.connections import PgPool, redis_client
from votingcommon.health import HealthProbe
from votingcommon.jsonlog import setup_logging

from worker.config import WorkerConfig
from worker.consumer import Consumer
from worker.status_server import start_status_server
from worker.stream import VoteStream

log = logging.getLogger("worker")


def main() -> int:
    try:
        config = WorkerConfig.from_env(os.environ)
    except ConfigError as err:
        print(f"worker: {err}", file=sys.stderr)
        return 2
    setup_logging("worker", config.log_level)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    # The blocking read must return before the socket times out.
    client = redis_client(
        config.redis, socket_timeout=(config.block_ms + config.redis.wait_timeout_ms) / 1000 + 5
    )
    pool = PgPool(config.database_url, "worker", size=2)
    try:
        server = start_status_server(config.bind, config.port, HealthProbe(client, pool))
    except OSError as err:
        where = f"{config.bind}:{config.port}"
        print(f"worker: WORKER_PORT: cannot listen on {where}: {err.strerror}", file=sys.stderr)
        return 2
    log.info("consumer %s reading %s; status port %d", config.consumer, config.stream, server.server_port)
    try:
        stream = VoteStream(client, config.stream, config.consumer, config.redis)
        Consumer(config, stream, pool, stop).run()
    finally:
        server.shutdown()
        pool.close()
        client.close()
    log.info("worker stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
