"""Each image's contents, rehearsed without an engine: the two COPYed packages alone on PYTHONPATH, the
final stage's ENV (paths moved under tmp_path), the ENTRYPOINT, then the HEALTHCHECK command against the
running service. This catches a service that imports something its image does not contain, a writable
path outside /tmp, or a health check that does not match the service."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from delivery_fixtures import SERVICES, as_path, dockerfile, final_stage, healthcheck_command
from votectl.localstack.ports import free_port

# gunicorn's workers share metrics through files; the worker is one process and keeps them in memory.
MULTIPROCESS_SERVICES = {"vote", "result"}
# Run the module as `python -m` would, but without the repository's editable install, so only the
# copied packages (and the installed requirements) can be imported.
ENTRYPOINT_WITHOUT_EDITABLE_INSTALL = (
    "import runpy, sys; "
    "sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in getattr(f, '__module__', '')]; "
    "runpy.run_module(sys.argv[1], run_name='__main__', alter_sys=True)"
)


def image_env(service: str, root: Path) -> dict[str, str]:
    """The final stage's ENV, with /opt/app and /tmp moved under `root`."""
    (block,) = re.findall(r"^ENV (.*?)(?<!\\)$", final_stage(dockerfile(service)), re.MULTILINE | re.DOTALL)
    moved = {"/opt/app": str(root / "opt" / "app"), "/tmp": str(root / "tmp")}
    env = {}
    for assignment in shlex.split(block.replace("\\\n", " ")):
        name, value = assignment.split("=", 1)
        env[name] = re.sub(r"/opt/app|/tmp", lambda match: moved[match.group(0)], value)
    return env


def copy_layout(service: str, root: Path) -> Path:
    """What the Dockerfile's COPY lines put in /opt/app, compiled as the build stage does."""
    app = root / "opt" / "app"
    for source, target in re.findall(r"^COPY (apps/\S+) /opt/app/(\S+)$", dockerfile(service), re.MULTILINE):
        shutil.copytree(as_path(source), app / target, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(app)], check=True)
    return app


def snapshot(directory: Path) -> set[Path]:
    return set(directory.rglob("*"))


def wait_ready(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"exited with {process.returncode}:\n{log.read_text()[-2000:]}"
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"{url}/readyz not ready within {timeout}s")


@pytest.fixture
def run_image(redis_url: str, database_url: str, tmp_path: Path) -> Iterator:
    started: list[subprocess.Popen[bytes]] = []

    def run(service: str) -> tuple[subprocess.Popen[bytes], dict[str, str], Path, set[Path]]:
        app = copy_layout(service, tmp_path)
        built = snapshot(app)
        (tmp_path / "tmp").mkdir()
        env = image_env(service, tmp_path)
        port_variable, _ = SERVICES[service]
        env.update(
            {
                "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
                port_variable: str(free_port()),
                "BIND": "127.0.0.1",  # the image binds 0.0.0.0; a test has no reason to
                "REDIS_URL": redis_url,
                "DATABASE_URL": database_url,
                "SECRET_KEY": "image-layout-test-secret-key-0123456789",
                "HOME": str(tmp_path / "tmp"),
                "LOG_LEVEL": "WARNING",
            }
        )
        entrypoint = [sys.executable, "-c", ENTRYPOINT_WITHOUT_EDITABLE_INSTALL, service]
        log = tmp_path / f"{service}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                entrypoint, env=env, cwd=tmp_path / "tmp", stdout=output, stderr=output
            )
        started.append(process)
        wait_ready(f"http://127.0.0.1:{env[port_variable]}", process, log)
        return process, env, app, built

    yield run
    for process in started:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_image_layout_serves_and_passes_its_healthcheck(service: str, run_image) -> None:
    process, env, app, built = run_image(service)
    healthcheck = [sys.executable, *healthcheck_command(service)[1:]]
    check = subprocess.run(healthcheck, env=env, capture_output=True, timeout=10, check=False)
    assert check.returncode == 0, check.stderr
    port = env[SERVICES[service][0]]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        assert response.status == 200
    if service in MULTIPROCESS_SERVICES:
        assert list(Path(env["PROMETHEUS_MULTIPROC_DIR"]).glob("*.db")), "metrics files must live under /tmp"
    assert process.poll() is None
    assert snapshot(app) == built, "the service wrote into its (read-only) application directory"
