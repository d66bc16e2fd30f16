"""The user's repository as release commands see it: its HEAD, base branch and remote, checked up front."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from votectl.errors import VotectlError
from votectl.release.git import Git
from votectl.release.images import ImageRef, images_path, read_refs


@dataclass(frozen=True)
class Workspace:
    git: Git
    head: str

    @classmethod
    def open(cls, cwd: Path | None = None) -> Workspace:
        git = Git(Path.cwd() if cwd is None else cwd)
        git = Git(git.toplevel())
        if not git.ok("rev-parse", "--verify", "--quiet", "HEAD"):
            raise VotectlError("this repository has no commits yet")
        return cls(git=git, head=git.head())

    def images_text(self, env: str, rev: str | None = None) -> str:
        text = self.git.show(rev or self.head, images_path(env))
        if text is None:
            raise VotectlError(f"{images_path(env)} does not exist at {(rev or self.head)[:12]}")
        return text

    def refs(self, env: str, rev: str | None = None) -> dict[str, ImageRef]:
        return read_refs(self.images_text(env, rev), env)


@dataclass(frozen=True)
class Target:
    """Where a change is published: the remote and the branch its pull request merges into."""

    remote: str
    base: str
    url: str

    @classmethod
    def of(cls, ws: Workspace) -> Target:
        """Refuse early, before anything is written, when the checkout cannot publish a change."""
        base = ws.git.current_branch()
        if ws.git.is_dirty():
            raise VotectlError("the working tree has uncommitted changes: commit or stash them first")
        remote = ws.git.remote()
        tracking = f"refs/remotes/{remote}/{base}"
        if ws.git.ok("rev-parse", "--verify", "--quiet", tracking) and not ws.git.ok(
            "merge-base", "--is-ancestor", "HEAD", tracking
        ):
            raise VotectlError(
                f"HEAD has commits that are not on {remote}/{base}: push them first, "
                "so the pull request holds only the image change"
            )
        return cls(remote=remote, base=base, url=ws.git.remote_url(remote))
