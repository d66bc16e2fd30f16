"""The rehearsal tests' fixture: rehearsals on the session's Redis with a fresh database each."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from rehearsals import Rehearsed, children
from votectl.localstack.databases import create_database, drop_database
from votectl.rehearsal.driver import RehearsalOptions, rehearse


@pytest.fixture(scope="module")
def run_rehearsal(
    redis_server_url: str, postgres_server_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator:
    """`run(name, service, **options)`: one rehearsal, its report in a fresh directory named `name`."""
    databases: list[str] = []

    def run(name: str, service: str = "vote", **options: object) -> Rehearsed:
        database = f"rehearsal_{uuid.uuid4().hex[:12]}"
        databases.append(database)
        report = tmp_path_factory.mktemp(name)
        before = children()
        result = rehearse(
            RehearsalOptions(
                service=service,
                report_dir=report,
                redis_url=redis_server_url,
                database_url=create_database(postgres_server_url, database),
                **options,  # type: ignore[arg-type]
            )
        )
        return Rehearsed(result, report, children() - before)

    yield run
    for database in databases:
        drop_database(postgres_server_url, database)
