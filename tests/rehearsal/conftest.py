"""The rehearsal tests' fixture: rehearsals on the session's Redis with a fresh database each."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from rehearsals import RehearsalProcesses, Rehearsed
from votectl.localstack.databases import create_database, drop_database
from votectl.rehearsal.driver import RehearsalOptions, rehearse


@pytest.fixture(scope="module")
def run_rehearsal(
    redis_server_url: str, postgres_server_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator:
    """`run(name, service, **options)`: one rehearsal, its report in a fresh directory named `name`, with
    the processes it started that are still running once it has returned (rehearsals.RehearsalProcesses)."""
    databases: list[str] = []

    def run(name: str, service: str = "vote", **options: object) -> Rehearsed:
        database = f"rehearsal_{uuid.uuid4().hex[:12]}"
        databases.append(database)
        report = tmp_path_factory.mktemp(name)
        database_url = create_database(postgres_server_url, database)
        with RehearsalProcesses() as processes:
            result = rehearse(
                RehearsalOptions(
                    service=service,
                    report_dir=report,
                    redis_url=redis_server_url,
                    database_url=database_url,
                    **options,  # type: ignore[arg-type]
                )
            )
        return Rehearsed(result, report, processes.left_running())

    yield run
    for database in databases:
        drop_database(postgres_server_url, database)
