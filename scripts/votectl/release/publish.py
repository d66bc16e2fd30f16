"""Turn a proposed change of an env's images into a gated commit, a pushed branch and a pull request.

The edit happens in a temporary worktree so the user's checkout never changes branch. Every step that
reaches outside (push, GitHub) is undone when a later step fails, so a refusal leaves nothing behind.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import TextIO

from votectl.errors import VotectlError
from votectl.release import prbody, trailers, verify_tree
from votectl.release.git import Git
from votectl.release.github import GitHub, PullRequest, RepoId, parse_remote, token_from_env
from votectl.release.images import Change, ImageRef, images_path, short_digest, write_refs
from votectl.release.workspace import Target, Workspace


@dataclass(frozen=True)
class Proposal:
    kind: str  # "promote" or "rollback": also the branch prefix
    env: str
    changes: tuple[Change, ...]
    source: str | None = None
    rollback_of: str | None = None

    @property
    def branch(self) -> str:
        """`promote/<env>/<service>-<short digest>`, several services joined by `+` in name order."""
        parts = sorted(f"{c.service}-{_slug(c.new)}" for c in self.changes)
        return f"{self.kind}/{self.env}/{'+'.join(parts)}"

    @property
    def message(self) -> str:
        return trailers.compose(self.env, list(self.changes), self.source, self.rollback_of)

    def body(self, result: verify_tree.GateResult) -> str:
        if self.rollback_of:
            return prbody.rollback_body(self.env, self.rollback_of, self.changes, result)
        return prbody.promotion_body(self.env, str(self.source), self.changes, result)


@dataclass(frozen=True)
class Options:
    dry_run: bool = False
    no_pr: bool = False


def _slug(ref: ImageRef) -> str:
    if ref.digest:
        return short_digest(ref.digest)
    return re.sub(r"[^A-Za-z0-9._-]", "-", ref.tag or "none")


def publish(ws: Workspace, target: Target, proposal: Proposal, options: Options, out: TextIO) -> None:
    path = images_path(proposal.env)
    old_text = ws.images_text(proposal.env)
    new_text = write_refs(old_text, proposal.env, {c.service: c.new for c in proposal.changes})
    if options.dry_run:
        diff = difflib.unified_diff(
            old_text.splitlines(True), new_text.splitlines(True), f"a/{path}", f"b/{path}"
        )
        out.write("".join(diff))
        out.write(f"dry run: would push {proposal.branch} and open a pull request into {target.base}\n")
        return
    repo, github, existing = _pull_request_side(target, proposal, options)
    with ws.git.worktree(ws.head) as tree:
        (tree.cwd / path).write_text(new_text)
        result = verify_tree.run(tree.cwd, proposal.env)
        out.write(f"gate: `{result.command}` passed: {result.summary}\n")
        push = _Push.prepare(tree, target.remote, proposal, path)
        push.run(out)
        if github is None:
            where = repo.compare_url(target.base, proposal.branch) if repo else proposal.branch
            out.write(f"open a pull request: {where}\n")
            return
        try:
            pull = _open_or_update(github, existing, proposal, target.base, result)
        except VotectlError:
            push.undo()
            raise
    verb = "updated" if existing else "opened"
    out.write(f"{verb} pull request #{pull.number}: {pull.url}\n")


def _pull_request_side(
    target: Target, proposal: Proposal, options: Options
) -> tuple[RepoId | None, GitHub | None, PullRequest | None]:
    """Everything GitHub-related that can fail is asked before any commit or push exists."""
    if options.no_pr:
        try:
            return parse_remote(target.url), None, None
        except VotectlError:
            return None, None, None  # a plain path remote: push works, there is just no URL to print
    token = token_from_env()
    if not token:
        raise VotectlError("no GitHub token: set GITHUB_TOKEN or GH_TOKEN, or pass --no-pr")
    github = GitHub(parse_remote(target.url), token)
    existing = github.open_pulls(proposal.branch)
    return github.repo, github, existing[0] if existing else None


def _open_or_update(
    github: GitHub,
    existing: PullRequest | None,
    proposal: Proposal,
    base: str,
    result: verify_tree.GateResult,
) -> PullRequest:
    title = proposal.message.splitlines()[0]
    body = proposal.body(result)
    if existing:
        return github.update_pull(existing.number, title, body)
    return github.create_pull(proposal.branch, base, title, body)


@dataclass
class _Push:
    """The branch update a promotion needs, remembering the remote's previous state so it can be undone."""

    tree: Git
    remote: str
    branch: str
    before: str | None  # the remote branch's sha before us, None when it did not exist
    commit: str | None  # what to push; None when the remote branch already holds exactly this change

    @classmethod
    def prepare(cls, tree: Git, remote: str, proposal: Proposal, path: str) -> _Push:
        tree.run("add", "--", path)
        before = tree.remote_branch_sha(remote, proposal.branch)
        if before:
            tree.run("fetch", "--quiet", remote, f"refs/heads/{proposal.branch}")
            same = tree.run("rev-parse", "FETCH_HEAD^{tree}").strip() == tree.run("write-tree").strip()
            if same:  # promoting the same thing twice: keep the existing commit, no new one
                return cls(tree, remote, proposal.branch, before, None)
        tree.run("commit", "--quiet", "--no-verify", "-F", "-", input_text=proposal.message)
        return cls(tree, remote, proposal.branch, before, tree.head())

    def run(self, out: TextIO) -> None:
        if self.commit is None:
            out.write(f"{self.branch} on {self.remote} already holds this change: no new commit\n")
            return
        lease = f"--force-with-lease=refs/heads/{self.branch}:{self.before or ''}"
        self.tree.run("push", "--quiet", lease, self.remote, f"{self.commit}:refs/heads/{self.branch}")
        out.write(f"pushed {self.branch} to {self.remote} ({self.commit[:12]})\n")

    def undo(self) -> None:
        """Put the remote branch back as it was (deleted if we created it)."""
        if self.commit is None:
            return
        lease = f"--force-with-lease=refs/heads/{self.branch}:{self.commit}"
        if self.before is None:
            self.tree.run("push", "--quiet", lease, self.remote, f":refs/heads/{self.branch}", check=False)
        else:
            refspec = f"{self.before}:refs/heads/{self.branch}"
            self.tree.run("push", "--quiet", lease, self.remote, refspec, check=False)
