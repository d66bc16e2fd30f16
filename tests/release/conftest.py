"""Release tests: a real git project with a bare remote, a local GitHub API stand-in, and the verify gate."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_github import TOKEN, FakeGitHub, serve
from release_project import NAME, OWNER, Project


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    fake = FakeGitHub(owner=OWNER, repo=NAME)
    server = serve(fake)
    monkeypatch.setenv("GITHUB_API_URL", fake.url)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return Project.template(tmp_path_factory.mktemp("release") / "template")


@pytest.fixture
def project(tmp_path: Path, template: Path) -> Project:
    return Project.create(tmp_path, template)


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch, crd_schema_dir: Path) -> Path:
    """What the real `votectl verify` needs on the copy (it skips with the reason when it cannot run)."""
    monkeypatch.setenv("CRD_SCHEMA_DIR", str(crd_schema_dir))
    return crd_schema_dir
