"""Release tests: a real git project with a bare remote, a local GitHub API stand-in, and the verify gate."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_github import TOKEN, FakeGitHub, serve
from release_project import NAME, OWNER, ROOT, Project


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
def gate(monkeypatch: pytest.MonkeyPatch) -> Path:
    """What the real `votectl verify` needs on the copy; skip with the reason when it cannot run."""
    configured = os.environ.get("CRD_SCHEMA_DIR")
    path = Path(configured) if configured else ROOT.parent / "shared" / "crd-schemas"
    if not path.is_dir():
        pytest.skip(f"no CRD schemas for verify: set CRD_SCHEMA_DIR ({path} missing)")
    monkeypatch.setenv("CRD_SCHEMA_DIR", str(path.resolve()))
    return path
