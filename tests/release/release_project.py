"""A throwaway copy of the project under real git: a bare remote standing in for GitHub, and a clone.

The clone's remote URL is a GitHub https URL (so owner/repo parse as in real life) that git rewrites to the
local bare repository with `url.<bare>.insteadOf`.
"""

from __future__ import annotations

import contextlib
import io
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from votectl.cli import main
from votectl.release.images import ImageRef, images_path, read_refs, write_refs

ROOT = Path(__file__).resolve().parents[2]
# What verify needs to run on a copy: the manifests (analysis templates included), the policies and itself.
COPIED = ("gitops", "policies", "scripts/votectl")
OWNER, NAME = "acme", "voting"
REMOTE_URL = f"https://github.com/{OWNER}/{NAME}.git"


def digest(char: str) -> str:
    return "sha256:" + char * 64


# Known starting point: dev is ahead of staging for vote and result; dev's worker is only tagged.
SEED = {
    "dev": {
        "vote": ImageRef(digest=digest("1")),
        "worker": ImageRef(tag="1.0.0"),
        "result": ImageRef(digest=digest("5")),
    },
    "staging": {
        "vote": ImageRef(digest=digest("0")),
        "worker": ImageRef(digest=digest("7")),
        "result": ImageRef(digest=digest("4")),
    },
    "prod": {
        "vote": ImageRef(digest=digest("0")),
        "worker": ImageRef(digest=digest("7")),
        "result": ImageRef(digest=digest("3")),
    },
}


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@dataclass
class Result:
    code: int
    out: str
    err: str


@dataclass
class Project:
    clone: Path
    bare: Path

    @classmethod
    def create(cls, base: Path, template: Path) -> Project:
        """A fresh bare remote and clone of the session's template repository (cheap local clones)."""
        bare, clone = base / "remote.git", base / "clone"
        git(base, "clone", "--quiet", "--bare", str(template), str(bare))
        git(base, "clone", "--quiet", str(bare), str(clone))
        _identity(clone)
        git(clone, "remote", "set-url", "origin", REMOTE_URL)
        git(clone, "config", f"url.{bare.as_uri()}.insteadOf", REMOTE_URL)
        return cls(clone=clone, bare=bare)

    @staticmethod
    def template(source: Path) -> Path:
        """The project's real trees with the known SEED image references, committed once."""
        source.mkdir()
        for rel in COPIED:
            shutil.copytree(ROOT / rel, source / rel, ignore=shutil.ignore_patterns("__pycache__"))
        for env, refs in SEED.items():
            path = source / images_path(env)
            path.write_text(write_refs(path.read_text(), env, refs))
        git(source, "init", "--quiet", "--initial-branch=main")
        _identity(source)
        git(source, "add", "--all")
        git(source, "commit", "--quiet", "-m", "Initial layout")
        return source

    def votectl(self, *argv: str) -> Result:
        """Run the CLI in-process in the clone, as a user would from its top directory."""
        out, err = io.StringIO(), io.StringIO()
        with contextlib.chdir(self.clone), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(argv))
        return Result(code, out.getvalue(), err.getvalue())

    def git(self, *args: str) -> str:
        return git(self.clone, *args)

    def remote_branches(self) -> dict[str, str]:
        lines = git(self.bare, "for-each-ref", "--format=%(refname:short) %(objectname)", "refs/heads").split(
            "\n"
        )
        return dict(line.split() for line in lines if line)

    def remote_refs(self, branch: str, env: str) -> dict[str, ImageRef]:
        return read_refs(git(self.bare, "show", f"{branch}:{images_path(env)}"), env)

    def local_state(self) -> tuple[str, str, str, str]:
        """HEAD, current branch, local branches and worktrees: what a refusal must leave as it was."""
        return (
            self.git("rev-parse", "HEAD"),
            self.git("symbolic-ref", "HEAD"),
            self.git("for-each-ref", "--format=%(refname)", "refs/heads"),
            self.git("worktree", "list", "--porcelain"),
        )

    def commit_file(self, rel: str, text: str, message: str) -> None:
        path = self.clone / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        self.git("add", rel)
        self.git("commit", "--quiet", "-m", message)
        self.git("push", "--quiet", "origin", "main")

    def merge_pull(self, branch: str, number: int) -> None:
        """Merge a pushed branch into main on the remote the way GitHub's merge button does."""
        self.git("fetch", "--quiet", "origin")
        self.git(
            "merge",
            "--quiet",
            "--no-ff",
            f"origin/{branch}",
            "-m",
            f"Merge pull request #{number} from {OWNER}/{branch}",
        )
        self.git("push", "--quiet", "origin", "main")


def _identity(repo: Path) -> None:
    git(repo, "config", "user.name", "Release Manager")
    git(repo, "config", "user.email", "release@example.com")
