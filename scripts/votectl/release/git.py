"""A thin wrapper over the real git CLI: each release step is a plain git command a user could replay."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from votectl.errors import VotectlError


class Git:
    """git commands run in one directory; a failing command becomes a one-line VotectlError."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = Path(cwd)

    def run(self, *args: str, input_text: str | None = None, check: bool = True) -> str:
        proc = subprocess.run(
            ["git", *args], cwd=self.cwd, input=input_text, capture_output=True, text=True, check=False
        )
        if check and proc.returncode != 0:
            lines = [line for line in proc.stderr.splitlines() if line.strip()] or ["(no message)"]
            raise VotectlError(f"git {args[0]} failed: {lines[-1].strip()}")
        return proc.stdout

    def ok(self, *args: str) -> bool:
        """True when the command succeeds; for questions git answers with its exit code."""
        return subprocess.run(["git", *args], cwd=self.cwd, capture_output=True, check=False).returncode == 0

    def toplevel(self) -> Path:
        if not self.ok("rev-parse", "--is-inside-work-tree"):
            raise VotectlError(f"{self.cwd} is not inside a git working tree")
        return Path(self.run("rev-parse", "--show-toplevel").strip())

    def head(self) -> str:
        return self.run("rev-parse", "HEAD").strip()

    def current_branch(self) -> str:
        branch = self.run("symbolic-ref", "--quiet", "--short", "HEAD", check=False).strip()
        if not branch:
            raise VotectlError("HEAD is detached: check out the branch promotions should target")
        return branch

    def is_dirty(self) -> bool:
        """Tracked changes only: untracked files cannot end up in a promotion commit."""
        return bool(self.run("status", "--porcelain", "--untracked-files=no").strip())

    def remote(self) -> str:
        """The remote promotions go to: `origin`, or the only remote there is."""
        remotes = self.run("remote").split()
        if not remotes:
            raise VotectlError("this repository has no git remote to push the promotion branch to")
        if "origin" in remotes:
            return "origin"
        if len(remotes) == 1:
            return remotes[0]
        raise VotectlError(f"several remotes and none is named origin: {', '.join(remotes)}")

    def remote_url(self, remote: str) -> str:
        """The URL as configured (before insteadOf rewriting), which names the GitHub repository."""
        return self.run("config", "--get", f"remote.{remote}.url").strip()

    def show(self, rev: str, path: str) -> str | None:
        """A file's content at a revision, or None when it does not exist there."""
        if not self.ok("cat-file", "-e", f"{rev}:{path}"):
            return None
        return self.run("show", f"{rev}:{path}")

    def blobs(self, shas: list[str]) -> dict[str, str]:
        """Many blobs' contents in one `git cat-file --batch` call."""
        if not shas:
            return {}
        proc = subprocess.run(
            ["git", "cat-file", "--batch"],
            cwd=self.cwd,
            input="\n".join(shas).encode() + b"\n",
            capture_output=True,
            check=False,
        )
        if proc.returncode != 0:
            raise VotectlError(f"git cat-file failed: {proc.stderr.decode().strip()}")
        contents, data = {}, proc.stdout
        while data:
            header, _, data = data.partition(b"\n")
            sha, kind, *size = header.decode().split()
            if kind == "missing":
                continue
            length = int(size[0])
            contents[sha] = data[:length].decode()
            data = data[length + 1 :]
        return contents

    def remote_branch_sha(self, remote: str, branch: str) -> str | None:
        out = self.run("ls-remote", "--heads", remote, f"refs/heads/{branch}").split()
        return out[0] if out else None

    @contextlib.contextmanager
    def worktree(self, rev: str) -> Iterator[Git]:
        """A detached temporary worktree at `rev`, removed afterwards, so the user's checkout never moves."""
        parent = Path(tempfile.mkdtemp(prefix="votectl-release-"))
        path = parent / "tree"
        self.run("worktree", "add", "--detach", "--quiet", str(path), rev)
        try:
            yield Git(path)
        finally:
            self.run("worktree", "remove", "--force", str(path), check=False)
            shutil.rmtree(parent, ignore_errors=True)
            self.run("worktree", "prune", check=False)
