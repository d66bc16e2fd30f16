"""The Dockerfiles and the compose files, checked without an engine: structure, pins, and the parts that
can run here (the HEALTHCHECK command against a real HTTP server, Prometheus' config with promtool)."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from delivery_fixtures import (
    DIGEST_PINNED,
    ROOT,
    SERVICES,
    as_path,
    dockerfile,
    final_stage,
    healthcheck_command,
    load_yaml,
)
from votectl.cli import build_parser
from votectl.engines.build import path as engine_path
from votectl.localstack.ports import free_port


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_dockerfile_shape(service: str) -> None:
    text = dockerfile(service)
    (base,) = re.findall(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.MULTILINE)
    assert base.startswith("python:3.11-slim@") and DIGEST_PINNED.search(base)
    assert re.findall(r"^FROM (\S+)", text, re.MULTILINE) == ["${PYTHON_IMAGE}", "${PYTHON_IMAGE}"]
    final = final_stage(text)
    assert re.search(r"^USER 10001:10001$", final, re.MULTILINE), "final stage must run as 10001"
    assert "RUN " not in final, "the final stage installs nothing (no compilers, no package managers)"
    for label in ("source", "revision", "version"):
        assert f"org.opencontainers.image.{label}=" in final
    port_variable, port = SERVICES[service]
    assert f"EXPOSE {port}" in final and f"{port_variable}={port}" in final
    assert re.search(r"PROMETHEUS_MULTIPROC_DIR=/tmp/", final)
    assert f"COPY apps/{service}/requirements.txt" in text
    assert "COPY apps/common/votingcommon " in text and f"COPY apps/{service}/{service} " in text


class Health(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def health_server() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("service", sorted(SERVICES))
@pytest.mark.parametrize(("status", "healthy"), [(200, True), (503, False)])
def test_healthcheck_command_follows_healthz(
    service: str, status: int, healthy: bool, health_server: ThreadingHTTPServer
) -> None:
    Health.status = status
    command = healthcheck_command(service)
    assert command[0] == "python"
    port_variable, _ = SERVICES[service]
    env = {port_variable: str(health_server.server_address[1])}
    result = subprocess.run(["python3", *command[1:]], env=env, capture_output=True, timeout=10, check=False)
    assert (result.returncode == 0) is healthy


def test_dockerignore_lets_only_apps_in() -> None:
    lines = [line for line in as_path(".dockerignore").read_text().splitlines() if line and line[0] != "#"]
    assert lines[:2] == ["*", "!apps/"]


@pytest.fixture(scope="module")
def compose() -> dict:
    return load_yaml("docker-compose.yml")


def test_compose_ports_and_builds(compose: dict) -> None:
    services = compose["services"]
    assert services["vote"]["ports"] == ["127.0.0.1:5000:5000"]
    assert services["result"]["ports"] == ["127.0.0.1:4000:4000"]
    assert "ports" not in services["redis"] and "ports" not in services["postgres"]
    for service in SERVICES:
        build = services[service]["build"]
        assert build["context"] == "." and as_path(build["dockerfile"]).is_file()
        assert services[service]["read_only"] is True and services[service]["user"] == "10001:10001"


def test_compose_images_are_pinned(compose: dict) -> None:
    for name, service in compose["services"].items():
        if "build" not in service:
            assert DIGEST_PINNED.search(service["image"]), f"{name}: {service['image']}"


def test_compose_healthchecks_and_dependencies(compose: dict) -> None:
    services = compose["services"]
    for name, service in services.items():
        assert service["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL"), name  # a real check, never NONE
        for dependency, condition in service.get("depends_on", {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            assert condition == {"condition": "service_healthy"}, f"{name} -> {dependency}"
    assert set(services["worker"]["depends_on"]) == {"redis", "postgres"}


def test_compose_holds_no_secret_values(compose: dict) -> None:
    for name, service in compose["services"].items():
        for key, value in service.get("environment", {}).items():
            if re.search(r"PASSWORD|SECRET", key):
                assert re.fullmatch(r"\$\{[A-Z_]+:\?[^}]+\}", value), f"{name}.{key} must come from .env"


def test_compose_mounts_exist(compose: dict) -> None:
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert as_path(source[2:]).exists(), f"{name} mounts missing {source}"


def test_prometheus_scrapes_the_three_services(compose: dict) -> None:
    config = load_yaml("deploy/compose/prometheus.yml")
    targets = {
        t for job in config["scrape_configs"] for group in job["static_configs"] for t in group["targets"]
    }
    assert targets == {f"{service}:{port}" for service, (_, port) in SERVICES.items()}


@pytest.mark.skipif(not shutil.which("promtool"), reason="promtool not installed (Debian prometheus)")
def test_prometheus_config_is_valid() -> None:
    result = subprocess.run(
        ["promtool", "check", "config", str(as_path("deploy/compose/prometheus.yml"))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_test_compose_runs_the_smoke_test_after_the_stack_is_healthy(compose: dict) -> None:
    e2e = load_yaml("docker-compose.test.yml")["services"]["e2e"]
    assert DIGEST_PINNED.search(e2e["image"])
    command = " ".join(e2e["command"])
    assert "-m votectl smoke " in command
    build_parser().parse_args(shlex.split(command[command.index("-m votectl smoke ") + len("-m votectl ") :]))
    # votectl comes from the mounted source, not from an installed project.
    assert e2e["environment"]["PYTHONPATH"] == "/src/scripts"
    assert "./scripts/votectl:/src/scripts/votectl:ro" in e2e["volumes"]
    for dependency, condition in e2e["depends_on"].items():
        assert dependency in compose["services"] and condition == {"condition": "service_healthy"}


def imported_packages(code: str, *argv: str) -> set[str]:
    """Top-level non-stdlib packages a fresh interpreter has imported after running `code`, with
    scripts/ on PYTHONPATH as in the compose e2e container."""
    probe = (
        f"{code}\nimport json, sys\n"
        "packages = {name.split('.')[0] for name in sys.modules} - set(sys.stdlib_module_names)\n"
        "print(json.dumps(sorted(packages)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, *argv],
        env={**os.environ, "PYTHONPATH": str(ROOT / "scripts")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.splitlines()[-1]))


def test_smoke_needs_nothing_but_requests() -> None:
    """The compose e2e container installs requests alone: `votectl smoke` must import nothing else."""
    url = f"http://127.0.0.1:{free_port()}"
    run_smoke = (
        "import runpy\ntry:\n    runpy.run_module('votectl', run_name='__main__', alter_sys=True)\n"
        "except SystemExit:\n    pass"
    )
    smoke = imported_packages(run_smoke, "smoke", "--vote-url", url, "--result-url", url, "--timeout", "0.1")
    assert smoke - imported_packages("import requests") == {"votectl"}


def test_docker_compose_config_accepts_both_files() -> None:
    """The real Docker Compose (built from its module, no engine needed) reads both files as one project."""
    env = {
        "POSTGRES_PASSWORD": "x",
        "REDIS_PASSWORD": "x",
        "SECRET_KEY": "x",
        "GRAFANA_ADMIN_PASSWORD": "x",
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [
            str(engine_path("docker-compose")),
            "-f",
            "docker-compose.yml",
            "-f",
            "docker-compose.test.yml",
            "config",
            "--quiet",
        ],
        cwd=as_path("."),
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_docker_compose_config_refuses_a_missing_secret() -> None:
    """Without REDIS_PASSWORD the project does not even load: no stack starts with an empty password.

    The other secrets are set: compose names only the first missing variable it meets, in no fixed order."""
    others = {name: "not-empty" for name in ("POSTGRES_PASSWORD", "SECRET_KEY", "GRAFANA_ADMIN_PASSWORD")}
    result = subprocess.run(
        [str(engine_path("docker-compose")), "-f", "docker-compose.yml", "config", "--quiet"],
        cwd=as_path("."),
        env={"PATH": "/usr/bin:/bin", **others},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "REDIS_PASSWORD" in result.stderr
