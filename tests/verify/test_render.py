"""Rendering with the venv's kubectl: failures become one clear error, never a traceback or a hang."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from votectl.errors import VotectlError
from votectl.render import kubectl, render_dirs, render_env


def test_kubectl_is_the_pinned_one_next_to_python() -> None:
    assert kubectl() == Path(sys.executable).parent / "kubectl"


def test_broken_kustomization_names_the_dir_and_kubectl_error(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources:\n  - missing.yaml\n")
    with pytest.raises(VotectlError, match=rf"kubectl kustomize {tmp_path} failed: .*missing\.yaml"):
        render_dirs([tmp_path])


def test_dir_without_kustomization(tmp_path: Path) -> None:
    with pytest.raises(VotectlError, match=r"no kustomization\.yaml"):
        render_dirs([tmp_path])


def test_unknown_env() -> None:
    with pytest.raises(VotectlError, match="unknown env 'qa': choose one of dev, staging, prod"):
        render_env("qa")
