"""The loop's git remote: a bare repository holding this checkout's HEAD as `main`, which Argo CD reads
over `file://`, and merges done as GitHub's merge button does them (a merge commit on main)."""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from votectl.errors import VotectlError

IDENTITY = ("-c", "user.name=votectl loop", "-c", "user.email=loop@votingplatform.invalid")


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(["git", *IDENTITY, *args], cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise VotectlError(
            f"git {' '.join(args)} failed: {' '.join(result.stderr.split()) or result.returncode}"
        )
    return result.stdout.strip()


@dataclass(frozen=True)
class LocalRemote:
    bare: Path

    @classmethod
    def create(cls, bare: Path, checkout: Path) -> LocalRemote:
        """A new bare remote whose main is the checkout's HEAD (what is committed, not the working tree)."""
        bare.parent.mkdir(parents=True, exist_ok=True)
        git(bare.parent, "init", "--quiet", "--bare", "--initial-branch=main", str(bare))
        git(checkout, "push", "--quiet", str(bare), "HEAD:refs/heads/main")
        return cls(bare)

    @property
    def url(self) -> str:
        return self.bare.as_uri()

    def head(self, branch: str = "main") -> str:
        return git(self.bare, "rev-parse", f"refs/heads/{branch}")

    def merge(self, branch: str, message: str) -> str:
        """Merge `branch` into main with a merge commit, as a pull request's merge does; the new main."""
        with tempfile.TemporaryDirectory(prefix="loop-merge-") as scratch:
            work = Path(scratch) / "work"
            git(Path(scratch), "clone", "--quiet", "--branch=main", str(self.bare), str(work))
            git(work, "merge", "--no-ff", "--quiet", "-m", message, f"origin/{branch}")
            git(work, "push", "--quiet", "origin", "main")
        return self.head()

    def commit_removal(self, rel: str, message: str) -> str:
        """A commit on main that deletes one manifest and its entry in its folder's kustomization (the
        prune check); the new main."""
        with tempfile.TemporaryDirectory(prefix="loop-edit-") as scratch:
            work = Path(scratch) / "work"
            git(Path(scratch), "clone", "--quiet", "--branch=main", str(self.bare), str(work))
            git(work, "rm", "--quiet", rel)
            kustomization = (work / rel).parent / "kustomization.yaml"
            entry = f"- {Path(rel).name}"
            lines = kustomization.read_text().splitlines(keepends=True)
            kept = [line for line in lines if line.strip() != entry]
            if len(kept) != len(lines) - 1:
                raise VotectlError(f"{kustomization.name} next to {rel} does not list it once")
            kustomization.write_text("".join(kept))
            git(work, "add", str(kustomization))
            git(work, "commit", "--quiet", "-m", message)
            git(work, "push", "--quiet", "origin", "main")
        return self.head()
