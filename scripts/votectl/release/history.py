"""An env's promotions and rollbacks, read back from the trailers of commits that touched its images file."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from votectl.release import trailers
from votectl.release.git import Git
from votectl.release.images import images_path

_MERGE_RE = re.compile(r"^Merge pull request #(\d+)")
_SQUASH_RE = re.compile(r"\(#(\d+)\)\s*$")


@dataclass(frozen=True)
class Entry:
    date: str  # committer date, ISO 8601
    env: str
    service: str
    old: str
    new: str
    commit: str
    pr: int | None
    source: str | None  # promoted from; None for a rollback
    rollback_of: str | None

    @property
    def kind(self) -> str:
        return "rollback" if self.rollback_of else "promote"

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "kind": self.kind}


def entries(git: Git, env: str, service: str | None = None, rev: str = "HEAD") -> list[Entry]:
    """Newest first, one entry per service a commit moved."""
    log = git.run("log", "--format=%H%x00%cI%x00%B%x1e", rev, "--", images_path(env))
    merged_by = _merge_pull_numbers(git, rev)
    found = []
    for chunk in filter(None, (c.strip("\n") for c in log.split("\x1e"))):
        commit, date, message = chunk.split("\x00", 2)
        squash = _SQUASH_RE.search(message.splitlines()[0]) if message else None
        pr = int(squash.group(1)) if squash else merged_by.get(commit)
        found += [
            Entry(date, r.env, r.service, r.old, r.new, commit, pr, r.source, r.rollback_of)
            for r in trailers.parse(message)
            if r.env == env and service in (None, r.service)
        ]
    return found


def _merge_pull_numbers(git: Git, rev: str) -> dict[str, int]:
    """Commit -> number of the pull request whose merge commit brought it in (GitHub's merge message)."""
    numbers: dict[str, int] = {}
    merges = git.run("log", "--merges", "--format=%H%x00%P%x00%s", rev)
    for line in filter(None, merges.splitlines()):
        _, parents, subject = line.split("\x00", 2)
        match = _MERGE_RE.match(subject)
        if not match:
            continue
        first, *others = parents.split()
        for commit in git.run("rev-list", *others, f"^{first}").split():
            numbers.setdefault(commit, int(match.group(1)))
    return numbers
