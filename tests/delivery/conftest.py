"""Fixtures for the delivery checks: the rendered Tekton resources and the workflows."""

from __future__ import annotations

import subprocess

import pytest
import yaml
from delivery_fixtures import ROOT
from votectl.delivery.scanners import tool


@pytest.fixture(scope="session")
def tekton_objects() -> list[dict]:
    """pipelines/tekton as kustomize renders it (what `kubectl apply -k` would send)."""
    rendered = subprocess.run(
        [tool("kubectl"), "kustomize", str(ROOT / "pipelines" / "tekton")],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return [doc for doc in yaml.safe_load_all(rendered.stdout) if doc]


@pytest.fixture(scope="session")
def workflows() -> dict[str, dict]:
    return {
        path.name: yaml.safe_load(path.read_text())
        for path in sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    }
