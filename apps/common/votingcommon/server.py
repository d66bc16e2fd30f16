"""`python -m vote` / `python -m result`: gunicorn started in-process with settings from the environment.

The master validates the whole configuration before forking, so a bad variable stops the start with one line
instead of a crash loop of workers. Nothing here imports prometheus-client at module level: the multiprocess
directory must be in the environment before the first metric exists.
"""

from __future__ import annotations

import atexit
import errno
import importlib
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from votingcommon.config import ConfigError, Env, env_int, env_port, env_str, log_level
from votingcommon.jsonlog import JsonFormatter, setup_logging

SHM_DIR = "/dev/shm"  # noqa: S108  (a tmpfs, not a shared temp dir of predictable names)


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    app_factory: str  # "module:function", imported in each worker after fork
    port_variable: str
    default_port: int
    default_threads: int
    prepare: Callable[[dict[str, str]], None]  # validates (and may complete) the environment in the master
    # "module:function" called with the worker's app as soon as the worker is told to stop, before it waits
    # for open requests: endless responses (SSE streams) end then instead of holding the shutdown for
    # GRACEFUL_TIMEOUT. Imported in the worker, like app_factory.
    on_stop: str | None = None


def serve(spec: ServiceSpec) -> int:
    env = os.environ
    try:
        level = log_level(env)
        setup_logging(spec.name, level)
        options = _gunicorn_options(spec, env, level)
        spec.prepare(env)  # type: ignore[arg-type]
        _check_port_free(options["bind"])
    except ConfigError as err:
        print(f"{spec.name}: {err}", file=sys.stderr)
        return 2
    _prepare_multiprocess_dir(spec.name)
    _Application(spec.app_factory, options).run()
    return 0


def _gunicorn_options(spec: ServiceSpec, env: Env, level: str) -> dict[str, Any]:
    bind = env_str(env, "BIND", "127.0.0.1")
    port = env_port(env, spec.port_variable, spec.default_port)
    host = f"[{bind}]" if ":" in bind else bind
    return {
        "bind": f"{host}:{port}",
        "workers": env_int(env, "WEB_CONCURRENCY", 2, 1, 64),
        # gunicorn's gthread, changed so that slow, idle or lingering clients wait in its poller and pool
        # threads only see whole requests (see httpworker); each SSE stream of result holds a thread.
        "worker_class": "votingcommon.httpworker.BufferedThreadWorker",
        "threads": env_int(env, "WEB_THREADS", spec.default_threads, 1, 1000),
        "keepalive": 5,
        # Each worker listens on its own SO_REUSEPORT socket, so the kernel spreads connections evenly over
        # the workers. On one shared socket whichever worker wakes first accepts: a burst of keep-alive
        # connections (an ingress's, a load generator's) can all land on one worker and leave the other
        # idle, and a vote worker with too few connections cannot keep its core busy while requests wait
        # on Redis.
        "reuse_port": True,
        "timeout": 30,
        "graceful_timeout": env_int(env, "GRACEFUL_TIMEOUT", 10, 0, 600),
        "loglevel": level.lower(),
        "logger_class": JsonGunicornLogger,
        "proc_name": spec.name,
        "control_socket_disable": True,  # it would write to $HOME, which is read-only in the containers
        # heartbeat files on tmpfs (the root filesystem of the containers is read-only)
        "worker_tmp_dir": SHM_DIR if os.access(SHM_DIR, os.W_OK) else None,
        "child_exit": _child_exit,
        "post_worker_init": partial(_announce_stop_signals, spec.on_stop) if spec.on_stop else None,
    }


def _check_port_free(bind: str) -> None:
    """With reuse_port a second server on the same port would not fail: it would silently share the
    connections. So the master first binds the address the plain way, which any listener there refuses."""
    host, _, port = bind.rpartition(":")
    family = socket.AF_INET6 if host.startswith("[") else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT leftovers do not count
        try:
            probe.bind((host.strip("[]"), int(port)))
        except OSError as err:
            reason = "already in use" if err.errno == errno.EADDRINUSE else (err.strerror or str(err))
            raise ConfigError("BIND", f"cannot listen on {bind}: {reason}") from None


def _prepare_multiprocess_dir(service: str) -> None:
    """Metrics files of a previous run would be summed into this one's, so the directory starts empty."""
    configured = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip()
    if configured:
        directory = Path(configured)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()
        return
    private = tempfile.mkdtemp(prefix=f"{service}-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = private
    master = os.getpid()

    def remove() -> None:
        if os.getpid() == master:  # forked workers exit through os._exit, but be sure
            shutil.rmtree(private, ignore_errors=True)

    atexit.register(remove)


class JsonGunicornLogger(Logger):
    """gunicorn's own messages as JSON lines on stdout, and no access log: requests are counted in metrics,
    and any log configuration (even a dict) would make gunicorn format an access line for every vote."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(JsonFormatter(cfg.proc_name))
        self.error_log.handlers = [handler]
        self.error_log.propagate = False


def _announce_stop_signals(on_stop: str, worker: Any) -> None:
    """After the worker loaded its app (`worker.wsgi`): each stop signal runs on_stop before gunicorn's."""
    stop = partial(_imported(on_stop), worker.wsgi)
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
        signal.signal(signum, partial(_stop_then, stop, signal.getsignal(signum)))


def _stop_then(stop: Callable[[], None], gunicorn_handler: Any, signum: int, frame: Any) -> None:
    stop()
    gunicorn_handler(signum, frame)


def _imported(reference: str) -> Any:
    """The function a "module:function" reference names."""
    module_name, _, function = reference.partition(":")
    return getattr(importlib.import_module(module_name), function)


def _child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess  # imported late: only after the directory is set

    multiprocess.mark_process_dead(worker.pid)


class _Application(BaseApplication):
    def __init__(self, app_factory: str, options: dict[str, Any]) -> None:
        self._app_factory = app_factory
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            if value is not None:
                self.cfg.set(key, value)

    def load(self) -> Any:
        return _imported(self._app_factory)()
