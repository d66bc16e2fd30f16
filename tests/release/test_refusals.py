"""Every refusal is one line on stderr, exit 2, and leaves the checkout, the remote and GitHub untouched."""

from __future__ import annotations

import json

import pytest
from fake_github import FakeGitHub
from release_project import OWNER, Project, digest
from votectl.localstack.ports import free_port

VOTE_BRANCH = f"promote/staging/vote-{'1' * 12}"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["promote", "vote", "--to", "qa"], "unknown env 'qa': expected one of dev, staging, prod"),
        (["promote", "db", "--to", "staging"], "unknown service 'db': expected one of vote, worker, result"),
        (["promote", "--to", "staging"], "name the service(s) to promote, or pass --all"),
        (
            ["promote", "vote", "--to", "staging", "--digest", digest("e")],
            f"{digest('e')} is not in dev for vote (dev runs {digest('1')}); promote it into dev first",
        ),
        (
            ["promote", "worker", "--to", "staging"],
            "dev has only the tag '1.0.0' for worker; staging takes digests only",
        ),
        (
            ["promote", "--all", "--to", "staging"],
            "dev has only the tag '1.0.0' for worker; staging takes digests only",
        ),
        (["promote", "vote", "--to", "staging", "--from", "staging"], "cannot promote staging into itself"),
        (
            ["promote", "vote", "--to", "prod", "--from", "dev"],
            "prod is promoted only from staging, not from dev",
        ),
        (
            ["promote", "vote", "--to", "dev"],
            "promoting into dev needs --digest sha256:... (dev has no source env)",
        ),
        (["promote", "vote", "--to", "dev", "--digest", "sha256:abc"], "not an image digest: 'sha256:abc'"),
        (["rollback", "staging"], "no promotion of any service in the history of staging"),
        (["rollback", "staging", "--to", digest("0")], "--to needs a service"),
        (["history", "qa"], "unknown env 'qa'"),
    ],
)
def test_refusal(project: Project, github: FakeGitHub, argv: list[str], message: str) -> None:
    before = project.local_state(), project.remote_branches()
    result = project.votectl(*argv)
    assert (result.code, result.out) == (2, "")
    assert len(result.err.splitlines()) == 1
    assert result.err.startswith(f"votectl: error: {message}")
    assert (project.local_state(), project.remote_branches()) == before
    assert project.git("status", "--porcelain") == ""
    assert github.requests == []


def test_dirty_working_tree(project: Project, github: FakeGitHub) -> None:
    (project.clone / "gitops/envs/dev/images/kustomization.yaml").write_text("edited by hand\n")
    result = project.votectl("promote", "vote", "--to", "staging")
    assert (result.code, result.err) == (
        2,
        "votectl: error: the working tree has uncommitted changes: commit or stash them first\n",
    )
    assert project.remote_branches() == {"main": project.git("rev-parse", "HEAD").strip()}


def test_no_remote(project: Project, github: FakeGitHub) -> None:
    project.git("remote", "remove", "origin")
    result = project.votectl("promote", "vote", "--to", "staging")
    assert (result.code, result.err) == (
        2,
        "votectl: error: this repository has no git remote to push the promotion branch to\n",
    )


def test_no_token(project: Project, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_TOKEN")
    result = project.votectl("promote", "vote", "--to", "staging")
    assert (result.code, result.err) == (
        2,
        "votectl: error: no GitHub token: set GITHUB_TOKEN or GH_TOKEN, or pass --no-pr\n",
    )
    assert list(project.remote_branches()) == ["main"]


def test_bad_credentials_stop_before_anything_is_pushed(
    project: Project, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_revoked")
    before = project.local_state()
    result = project.votectl("promote", "vote", "--to", "staging")
    assert (result.code, result.out) == (2, "")
    assert result.err == f"votectl: error: GitHub API GET /repos/{OWNER}/voting/pulls: 401 Bad credentials\n"
    assert github.calls() == [("GET", f"/repos/{OWNER}/voting/pulls")]
    assert github.requests[0].authorization == "Bearer ghp_revoked"
    assert list(project.remote_branches()) == ["main"]
    assert project.local_state() == before


def test_dry_run_prints_the_diff_and_changes_nothing(project: Project, github: FakeGitHub) -> None:
    before = project.local_state(), project.remote_branches()
    result = project.votectl("promote", "vote", "result", "--to", "staging", "--dry-run")
    assert result.code == 0, result.err
    changed = [
        line for line in result.out.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")
    ]
    assert sorted(line.split()[-1] for line in changed) == sorted(digest(c) for c in "0145")
    assert sorted(line[0] + line.split()[-1][7] for line in changed) == ["+1", "+5", "-0", "-4"]
    assert result.out.splitlines()[-1] == (
        f"dry run: would push promote/staging/result-{'5' * 12}+vote-{'1' * 12} "
        "and open a pull request into main"
    )
    assert (project.local_state(), project.remote_branches()) == before
    assert github.requests == []


def test_nothing_to_promote_when_target_already_runs_it(project: Project, github: FakeGitHub) -> None:
    result = project.votectl("promote", "worker", "--to", "prod")
    assert (result.code, result.out, result.err) == (
        0,
        "nothing to promote: prod already runs these references\n",
        "",
    )
    assert github.requests == []


def test_unreachable_api_is_one_line(
    project: Project, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()  # free a moment ago: nothing listens there
    monkeypatch.setenv("GITHUB_API_URL", f"http://127.0.0.1:{port}")
    result = project.votectl("promote", "vote", "--to", "staging")
    assert (result.code, result.err) == (
        2,
        f"votectl: error: cannot reach the GitHub API at http://127.0.0.1:{port}: ConnectionError\n",
    )
    assert list(project.remote_branches()) == ["main"]


def test_status_still_shows_images_when_github_refuses(
    project: Project, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_revoked")
    result = project.votectl("status", "--format", "json")
    assert result.code == 0
    assert result.err == (
        f"votectl: warning: open pull requests not shown: GitHub API GET /repos/{OWNER}/voting/pulls: "
        "401 Bad credentials\n"
    )
    assert json.loads(result.out)["pull_requests"] is None
    table = project.votectl("status")
    assert "open pull requests: not shown (see the warning above)" in table.out
