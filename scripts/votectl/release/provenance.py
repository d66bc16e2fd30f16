"""Which commit put each image reference where it is now, for `votectl status`."""

from __future__ import annotations

from dataclasses import dataclass

from votectl.errors import VotectlError
from votectl.release.git import Git
from votectl.release.images import ImageRef, images_path, read_refs

_NO_BLOB = "0" * 40


@dataclass(frozen=True)
class Setter:
    commit: str
    date: str


def setters(git: Git, env: str, rev: str = "HEAD") -> dict[str, Setter]:
    """Service -> the oldest commit of the newest unbroken run of versions holding today's reference.

    Reads every version of the images file with two git calls (log --raw, cat-file --batch) instead of
    one `git show` per commit.
    """
    versions = _versions(git, env, rev)
    if not versions:
        return {}
    current = versions[0][2]
    found = {}
    for service, ref in current.items():
        for commit, date, refs in versions:
            if refs.get(service) != ref:
                break
            found[service] = Setter(commit, date)
    return found


def _versions(git: Git, env: str, rev: str) -> list[tuple[str, str, dict[str, ImageRef]]]:
    log = git.run("log", "--format=%x1e%H %cI", "--raw", "--no-abbrev", rev, "--", images_path(env))
    commits = []
    for chunk in filter(None, log.split("\x1e")):
        header, *raw = chunk.strip().splitlines()
        changed = [line.split()[3] for line in raw if line.startswith(":")]
        if changed:  # a merge that only took one side lists no change of its own
            commit, date = header.split()
            commits.append((commit, date, changed[0]))
    texts = git.blobs(sorted({blob for _, _, blob in commits if blob != _NO_BLOB}))
    versions = []
    for commit, date, blob in commits:
        try:
            refs = read_refs(texts[blob], env) if blob in texts else {}
        except VotectlError:
            refs = {}  # an old broken version ends the run like any other difference
        versions.append((commit, date, refs))
    return versions
