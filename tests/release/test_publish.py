"""Promotions and rollbacks end to end: real git remote, real `votectl verify`, GitHub API stand-in."""

from __future__ import annotations

import re

import pytest
from fake_github import ALREADY_EXISTS, FakeGitHub
from release_project import OWNER, Project, digest, git
from ruamel.yaml import YAML
from votectl.release import trailers
from votectl.release.images import ImageRef, images_path

pytestmark = pytest.mark.usefixtures("gate")
PULLS = f"/repos/{OWNER}/voting/pulls"
VOTE = f"promote/staging/vote-{'1' * 12}"
RESULT = f"promote/staging/result-{'5' * 12}"

PROMOTION_BODY = f"""\
Promotes image references from **dev** to **staging**; \
only `gitops/envs/staging/images/kustomization.yaml` changes.

| service | before | after |
|---|---|---|
| vote | `{digest("0")}` | `{digest("1")}` |

### Gate

`votectl verify --env staging` passed on the edited tree: {{summary}}

### Rollback

After this merges, undo it with a rollback pull request:

```
votectl rollback staging vote --to {digest("0")}
```
"""


def changed_files(project: Project, branch: str) -> str:
    return git(project.bare, "diff", "--name-only", f"main...{branch}")


def changed_lines(project: Project, branch: str) -> list[str]:
    diff = git(project.bare, "diff", "--unified=0", f"main...{branch}").splitlines()
    return [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")]


def message(project: Project, branch: str) -> str:
    return git(project.bare, "log", "-1", "--format=%B", branch)


def test_promote_opens_a_pull_request_once_and_updates_it_after(project: Project, github: FakeGitHub) -> None:
    before = project.local_state()
    first = project.votectl("promote", "vote", "--to", "staging")
    assert first.code == 0, first.err
    assert github.calls() == [("GET", PULLS), ("POST", PULLS)]
    assert github.requests[0].query == {"state": "open", "per_page": "100", "head": f"{OWNER}:{VOTE}"}
    sent = github.requests[1].body
    summary = re.search(r"passed on the edited tree: (.*)\n", sent["body"]).group(1)
    assert "staging" in summary  # the last line verify printed, whatever its wording
    assert sent == {
        "title": f"Promote vote @{'1' * 12} to staging",
        "head": VOTE,
        "base": "main",
        "body": PROMOTION_BODY.format(summary=summary),
    }
    assert first.out.splitlines()[-1] == f"opened pull request #1: https://github.com/{OWNER}/voting/pull/1"

    # one commit on top of main that changes exactly the vote digest line, with its trailers
    assert git(project.bare, "rev-list", "--count", f"main..{VOTE}").strip() == "1"
    assert changed_files(project, VOTE) == "gitops/envs/staging/images/kustomization.yaml\n"
    assert changed_lines(project, VOTE) == [f"-    digest: {digest('0')}", f"+    digest: {digest('1')}"]
    assert trailers.parse(message(project, VOTE)) == [
        trailers.Record("staging", "vote", digest("1"), digest("0"), "dev", None)
    ]
    assert project.local_state() == before  # still on main, no local branch, no worktree left

    pushed = project.remote_branches()[VOTE]
    again = project.votectl("promote", "vote", "--to", "staging")
    assert again.code == 0, again.err
    assert project.remote_branches()[VOTE] == pushed  # no new commit
    assert github.calls()[2:] == [("GET", PULLS), ("PATCH", f"{PULLS}/1")]
    assert github.requests[3].body == {"title": sent["title"], "body": sent["body"]}
    assert len(github.pulls) == 1
    assert f"{VOTE} on origin already holds this change: no new commit" in again.out
    assert again.out.splitlines()[-1] == f"updated pull request #1: https://github.com/{OWNER}/voting/pull/1"

    # main moved on: the branch is rebuilt on top of it, still one commit, and the same PR is updated
    project.commit_file("README.md", "moved on\n", "Unrelated change")
    third = project.votectl("promote", "vote", "--to", "staging")
    assert third.code == 0, third.err
    assert git(project.bare, "rev-parse", f"{VOTE}^").strip() == project.remote_branches()["main"]
    assert changed_lines(project, VOTE) == [f"-    digest: {digest('0')}", f"+    digest: {digest('1')}"]
    assert github.calls()[4:] == [("GET", PULLS), ("PATCH", f"{PULLS}/1")]
    assert len(github.pulls) == 1


def test_two_promotions_then_history_and_rollback(project: Project, github: FakeGitHub) -> None:
    assert project.votectl("promote", "vote", "--to", "staging").code == 0
    second = project.votectl("promote", "result", "--to", "staging")
    assert second.code == 0, second.err
    assert [p["head"]["ref"] for p in github.pulls] == [VOTE, RESULT]
    assert changed_lines(project, VOTE) == [f"-    digest: {digest('0')}", f"+    digest: {digest('1')}"]
    assert changed_lines(project, RESULT) == [f"-    digest: {digest('4')}", f"+    digest: {digest('5')}"]

    project.merge_pull(VOTE, 1)
    project.merge_pull(RESULT, 2)  # a plain git merge: the two edits do not conflict
    assert project.remote_refs("main", "staging") == {
        "vote": ImageRef(digest=digest("1")),
        "worker": ImageRef(digest=digest("7")),
        "result": ImageRef(digest=digest("5")),
    }
    history = project.votectl("history", "staging", "--format", "json")
    assert '"pr": 2' in history.out and '"pr": 1' in history.out
    vote_commit = git(project.bare, "rev-parse", VOTE).strip()

    rollback = project.votectl("rollback", "staging", "vote")
    assert rollback.code == 0, rollback.err
    branch = f"rollback/staging/vote-{'0' * 12}"
    assert changed_lines(project, branch) == [f"-    digest: {digest('1')}", f"+    digest: {digest('0')}"]
    assert trailers.parse(message(project, branch)) == [
        trailers.Record("staging", "vote", digest("0"), digest("1"), None, vote_commit)
    ]
    assert message(project, branch).startswith(f"Roll back vote @{'0' * 12} in staging\n")
    sent = github.requests[-1]
    assert (sent.method, sent.path, sent.body["head"], sent.body["base"]) == ("POST", PULLS, branch, "main")
    assert "kubectl argo rollouts abort vote -n voting-staging" in sent.body["body"]
    assert "selfHeal" in sent.body["body"] and "**Rollback** of staging" in sent.body["body"]


def test_api_error_after_push_leaves_nothing_behind(project: Project, github: FakeGitHub) -> None:
    github.fail("POST", PULLS, ALREADY_EXISTS)
    before = project.local_state(), project.remote_branches()
    result = project.votectl("promote", "vote", "--to", "staging")
    assert result.code == 2
    assert (
        result.err
        == f"votectl: error: GitHub API POST {PULLS}: 422 Validation Failed: A pull request already exists\n"
    )
    assert github.calls() == [("GET", PULLS), ("POST", PULLS)]
    assert (project.local_state(), project.remote_branches()) == before
    assert project.git("status", "--porcelain") == ""


def test_no_pr_pushes_and_prints_the_compare_url(
    project: Project, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN")
    result = project.votectl("promote", "vote", "--to", "dev", "--digest", digest("d"), "--no-pr")
    assert result.code == 0, result.err
    branch = f"promote/dev/vote-{'d' * 12}"
    assert result.out.splitlines()[-1] == (
        f"open a pull request: https://github.com/{OWNER}/voting/compare/main...{branch}?expand=1"
    )
    assert project.remote_refs(branch, "dev")["vote"] == ImageRef(digest=digest("d"))
    assert changed_files(project, branch) == "gitops/envs/dev/images/kustomization.yaml\n"
    assert github.requests == []


def test_failing_gate_refuses_and_commits_nothing(project: Project, github: FakeGitHub) -> None:
    yaml = YAML()
    path = project.clone / "gitops/envs/dev/kustomization.yaml"
    kustomization = yaml.load(path.read_text())
    broken = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: voting-config\nbogusField: true\n"
    kustomization.setdefault("patches", []).append({"patch": broken})
    with path.open("w") as out:
        yaml.dump(kustomization, out)
    project.git("commit", "--quiet", "-am", "Break dev on purpose")
    project.git("push", "--quiet", "origin", "main")
    before = project.local_state(), project.remote_branches()
    result = project.votectl("promote", "vote", "--to", "dev", "--digest", digest("d"))
    assert result.code == 2
    assert result.err.splitlines()[-1].startswith(
        "votectl: error: `votectl verify --env dev` failed on the edited tree, nothing was committed:"
    )
    assert "bogusField" in result.err
    assert (project.local_state(), project.remote_branches()) == before
    assert (project.clone / images_path("dev")).read_text() == git(
        project.clone, "show", f"HEAD:{images_path('dev')}"
    )
