"""The envs and the Argo CD folder rendered once per session by the pinned kustomize."""

from __future__ import annotations

from pathlib import Path

import pytest
from votectl.render import render_dirs, render_envs
from votectl.repo import Repo
from votectl.verify.schemas import SchemaStore

ENVS = Repo.current().env_names

ARGOCD_DIR = Path(__file__).resolve().parents[2] / "gitops" / "argocd"


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[dict]]:
    return render_envs(ENVS)


@pytest.fixture(scope="session")
def argocd() -> list[dict]:
    return render_dirs([ARGOCD_DIR])[0]


@pytest.fixture(scope="session")
def schema_store(crd_schema_dir: Path) -> SchemaStore:
    return SchemaStore(crd_schema_dir)
