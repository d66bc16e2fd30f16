"""Real Redis, PostgreSQL, Prometheus, nginx and service processes on loopback, each a `server.ManagedServer`,
for `votectl run`, rehearsals, the local control plane, tests and benchmarks."""

from votectl.localstack.ports import free_port
from votectl.localstack.postgres_server import PostgresServer
from votectl.localstack.redis_server import RedisServer
from votectl.localstack.service import SERVICE_PORT_ENV, ServiceProcess

__all__ = ["SERVICE_PORT_ENV", "PostgresServer", "RedisServer", "ServiceProcess", "free_port"]
