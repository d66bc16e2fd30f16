"""The delivery linters and scanners, in one place for `make lint`, the test suite and the Tekton scan.

Each scanner is a function returning the finished process; `python tests/delivery/delivery_scanners.py
[NAME...]` runs the named ones (all by default) and exits non-zero if any found something.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Directories no scanner should walk: tooling, local state and caches, never shipped.
SKIPPED_DIRS = (".git", ".venv", ".state", "test-artifacts", ".pytest_cache", ".ruff_cache", ".mypy_cache")
SHELL_SHEBANGS = ("#!/bin/sh", "#!/bin/bash", "#!/usr/bin/env bash", "#!/usr/bin/env sh")


class ScannerUnavailable(Exception):
    """A scanner's binary is missing: a setup problem, reported as such rather than as a finding."""


def tool(name: str) -> str:
    """Absolute path of a tool, preferring the venv beside the running interpreter."""
    venv_tool = Path(sys.executable).parent / name
    found = str(venv_tool) if venv_tool.exists() else shutil.which(name)
    if not found:
        raise ScannerUnavailable(f"{name} is not installed (make install puts it in .venv/bin)")
    return found


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)


def walk(predicate: Callable[[Path], bool]) -> list[str]:
    """Repository files (relative paths) matching predicate, outside SKIPPED_DIRS."""
    found = []
    for path in ROOT.rglob("*"):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in SKIPPED_DIRS or "node_modules" in relative.parts or not path.is_file():
            continue
        if predicate(path):
            found.append(str(relative))
    return sorted(found)


def workflows() -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for p in (ROOT / ".github" / "workflows").glob("*.y*ml"))


def dockerfiles() -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for p in (ROOT / "apps").glob("*/Dockerfile"))


def is_shell_script(path: Path) -> bool:
    if path.suffix in (".sh", ".bash"):
        return True
    if path.suffix:
        return False
    with path.open("rb") as handle:
        first_line = handle.readline(64).decode("utf-8", "replace").strip()
    return first_line.startswith(SHELL_SHEBANGS)


def shell_scripts() -> list[str]:
    return walk(is_shell_script)


def rendered_envs() -> list[str]:
    """The env overlays that kustomize can render (gitops/envs/<env>/kustomization.yaml)."""
    return sorted(p.parent.name for p in (ROOT / "gitops" / "envs").glob("*/kustomization.yaml"))


def actionlint() -> subprocess.CompletedProcess[str]:
    # actionlint finds shellcheck only through an absolute path: hand it the venv's.
    return run(tool("actionlint"), "-shellcheck", tool("shellcheck"), *workflows())


def zizmor() -> subprocess.CompletedProcess[str]:
    return run(tool("zizmor"), "--offline", "--no-progress", "--min-severity", "low", ".github")


def shellcheck() -> subprocess.CompletedProcess[str]:
    return run(tool("shellcheck"), "--severity", "style", *shell_scripts())


def hadolint() -> subprocess.CompletedProcess[str]:
    return run(tool("hadolint"), "--failure-threshold", "style", *dockerfiles())


def yamllint() -> subprocess.CompletedProcess[str]:
    return run(tool("yamllint"), "--config-file", ".yamllint.yaml", "--format", "parsable", ".")


def trivy(*arguments: str) -> subprocess.CompletedProcess[str]:
    """trivy offline: a throwaway cache, bundled checks only, findings fail unless .trivyignore.yaml
    justifies them."""
    with tempfile.TemporaryDirectory(prefix="trivy-cache-") as cache:
        return run(
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


def trivy_config() -> subprocess.CompletedProcess[str]:
    """Misconfigurations in the Dockerfiles and in what each env really deploys (rendered manifests)."""
    with tempfile.TemporaryDirectory(prefix="trivy-config-") as workdir:
        targets = Path(workdir)
        for dockerfile in dockerfiles():
            service = Path(dockerfile).parent.name
            (targets / service).mkdir()
            shutil.copy(ROOT / dockerfile, targets / service / "Dockerfile")
        for env in rendered_envs():
            rendered = run(tool("kubectl"), "kustomize", f"gitops/envs/{env}")
            if rendered.returncode:
                return rendered
            (targets / f"{env}.yaml").write_text(rendered.stdout)
        return trivy("config", "--skip-check-update", str(targets))


def trivy_secret() -> subprocess.CompletedProcess[str]:
    return trivy("fs", "--scanners", "secret", "--skip-dirs", ",".join(SKIPPED_DIRS), ".")


SCANNERS: dict[str, Callable[[], subprocess.CompletedProcess[str]]] = {
    "actionlint": actionlint,
    "zizmor": zizmor,
    "shellcheck": shellcheck,
    "hadolint": hadolint,
    "yamllint": yamllint,
    "trivy-config": trivy_config,
    "trivy-secret": trivy_secret,
}


def main(names: list[str]) -> int:
    unknown = sorted(set(names) - set(SCANNERS))
    if unknown:
        print(f"unknown scanner(s): {', '.join(unknown)}; known: {', '.join(SCANNERS)}", file=sys.stderr)
        return 2
    failed = []
    for name in names or list(SCANNERS):
        try:
            result = SCANNERS[name]()
        except ScannerUnavailable as err:
            print(f"{name}: {err}", file=sys.stderr)
            failed.append(name)
            continue
        print(f"{name}: {'ok' if result.returncode == 0 else 'FAILED'}")
        if result.returncode:
            failed.append(name)
            print(result.stdout + result.stderr, file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
