"""The delivery linters and scanners, in one place for `make lint`, the test suite and the Tekton scan.

Each scanner takes the checkout to scan and returns the finished process (`votectl lint [NAME...]` runs
them), so the suite can run exactly what `make lint` runs against its own checkout.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

# Directories no scanner should walk: tooling, local state and caches, never shipped.
SKIPPED_DIRS = (".git", ".venv", ".state", "test-artifacts", ".pytest_cache", ".ruff_cache", ".mypy_cache")
SHELL_SHEBANGS = ("#!/bin/sh", "#!/bin/bash", "#!/usr/bin/env bash", "#!/usr/bin/env sh")

Scanner = Callable[[Path], subprocess.CompletedProcess[str]]


class ScannerUnavailable(Exception):
    """A scanner's binary is missing: a setup problem, reported as such rather than as a finding."""


def tool(name: str) -> str:
    """Absolute path of a tool, preferring the venv beside the running interpreter."""
    venv_tool = Path(sys.executable).parent / name
    found = str(venv_tool) if venv_tool.exists() else shutil.which(name)
    if not found:
        raise ScannerUnavailable(f"{name} is not installed (make install puts it in .venv/bin)")
    return found


def run(root: Path, *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=300, check=False)


def walk(root: Path, predicate: Callable[[Path], bool]) -> list[str]:
    """Files of the checkout (relative paths) matching predicate, outside SKIPPED_DIRS."""
    found = []
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if relative.parts[0] in SKIPPED_DIRS or "node_modules" in relative.parts or not path.is_file():
            continue
        if predicate(path):
            found.append(str(relative))
    return sorted(found)


def workflows(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in (root / ".github" / "workflows").glob("*.y*ml"))


def dockerfiles(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in (root / "apps").glob("*/Dockerfile"))


def is_shell_script(path: Path) -> bool:
    if path.suffix in (".sh", ".bash"):
        return True
    if path.suffix:
        return False
    with path.open("rb") as handle:
        first_line = handle.readline(64).decode("utf-8", "replace").strip()
    return first_line.startswith(SHELL_SHEBANGS)


def shell_scripts(root: Path) -> list[str]:
    return walk(root, is_shell_script)


def rendered_envs(root: Path) -> list[str]:
    """The env overlays that kustomize can render (gitops/envs/<env>/kustomization.yaml)."""
    return sorted(p.parent.name for p in (root / "gitops" / "envs").glob("*/kustomization.yaml"))


def actionlint(root: Path) -> subprocess.CompletedProcess[str]:
    # actionlint finds shellcheck only through an absolute path: hand it the venv's.
    return run(root, tool("actionlint"), "-shellcheck", tool("shellcheck"), *workflows(root))


def zizmor(root: Path) -> subprocess.CompletedProcess[str]:
    return run(root, tool("zizmor"), "--offline", "--no-progress", "--min-severity", "low", ".github")


def shellcheck(root: Path) -> subprocess.CompletedProcess[str]:
    return run(root, tool("shellcheck"), "--severity", "style", *shell_scripts(root))


def hadolint(root: Path) -> subprocess.CompletedProcess[str]:
    return run(root, tool("hadolint"), "--failure-threshold", "style", *dockerfiles(root))


def yamllint(root: Path) -> subprocess.CompletedProcess[str]:
    return run(root, tool("yamllint"), "--config-file", ".yamllint.yaml", "--format", "parsable", ".")


def trivy(root: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """trivy offline: a throwaway cache, bundled checks only, findings fail unless .trivyignore.yaml
    justifies them."""
    with tempfile.TemporaryDirectory(prefix="trivy-cache-") as cache:
        return run(
            root,
            tool("trivy"),
            *arguments,
            "--cache-dir",
            cache,
            "--quiet",
            "--exit-code",
            "1",
            "--ignorefile",
            ".trivyignore.yaml",
        )


def trivy_config(root: Path) -> subprocess.CompletedProcess[str]:
    """Misconfigurations in the Dockerfiles and in what each env really deploys (rendered manifests)."""
    with tempfile.TemporaryDirectory(prefix="trivy-config-") as workdir:
        targets = Path(workdir)
        for dockerfile in dockerfiles(root):
            service = Path(dockerfile).parent.name
            (targets / service).mkdir()
            shutil.copy(root / dockerfile, targets / service / "Dockerfile")
        for env in rendered_envs(root):
            rendered = run(root, tool("kubectl"), "kustomize", f"gitops/envs/{env}")
            if rendered.returncode:
                return rendered
            (targets / f"{env}.yaml").write_text(rendered.stdout)
        return trivy(root, "config", "--skip-check-update", str(targets))


def trivy_secret(root: Path) -> subprocess.CompletedProcess[str]:
    return trivy(root, "fs", "--scanners", "secret", "--skip-dirs", ",".join(SKIPPED_DIRS), ".")


SCANNERS: dict[str, Scanner] = {
    "actionlint": actionlint,
    "zizmor": zizmor,
    "shellcheck": shellcheck,
    "hadolint": hadolint,
    "yamllint": yamllint,
    "trivy-config": trivy_config,
    "trivy-secret": trivy_secret,
}
