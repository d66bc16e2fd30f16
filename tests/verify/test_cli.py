"""`votectl verify` as users and CI run it: formats, --files with stdin, exit codes, bad input."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
import yaml
from votectl.cli import main

FIXTURES = Path(__file__).parent / "fixtures"
POLICIES_WAIT = "OPA policies not evaluated: 1 object(s) fail the schema check; fix those first"


@pytest.fixture
def manifests(tmp_path: Path, rendered_fixtures: dict[str, list[dict]]) -> dict[str, Path]:
    """The rendered base and one broken overlay as multi-document YAML files."""
    paths = {}
    for name in ("base", "missing-arg", "unknown-field", "exempted-tag"):
        paths[name] = tmp_path / f"{name}.yaml"
        paths[name].write_text(yaml.safe_dump_all(rendered_fixtures[name]))
    return paths


def verify(capsys: pytest.CaptureFixture[str], crd_schema_dir: Path, *args: str) -> tuple[int, str, str]:
    code = main(["verify", "--crd-schemas", str(crd_schema_dir), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_clean_files_exit_zero_with_summary(capsys, crd_schema_dir, manifests) -> None:
    code, out, err = verify(capsys, crd_schema_dir, "--files", str(manifests["base"]))
    assert (code, err) == (0, "")
    assert "files (prod rules): 11 objects, no findings" in out
    assert "verify OK: files: 11 objects, 0 errors" in out


def test_findings_exit_one_and_show_in_the_table(capsys, crd_schema_dir, manifests) -> None:
    code, out, _ = verify(capsys, crd_schema_dir, "--files", str(manifests["missing-arg"]), "--env", "dev")
    assert code == 1
    assert "files (dev rules)" in out
    assert "crossref/analysis-args" in out and "Rollout/voting-fixture/vote" in out
    assert "verify FAILED: files: 11 objects, 1 errors" in out


def test_json_format(capsys, crd_schema_dir, manifests) -> None:
    files = [str(manifests["missing-arg"]), str(manifests["unknown-field"])]
    code, out, _ = verify(capsys, crd_schema_dir, "--format", "json", "--files", *files)
    report = json.loads(out)
    assert code == 1
    assert report["ok"] is False
    assert report["envs"] == [{"env": "files", "rules": "prod", "objects": 22}]
    assert report["exemptions"] == []
    assert {(f["env"], f["rule"], f["severity"]) for f in report["findings"]} == {
        ("files", "crossref/analysis-args", "error"),
        ("files", "schema", "error"),
        ("files", "policy", "warning"),
    }


def test_exemptions_in_force_are_reported(capsys, crd_schema_dir, manifests) -> None:
    exempted = str(manifests["exempted-tag"])
    code, out, _ = verify(capsys, crd_schema_dir, "--format", "json", "--files", exempted)
    report = json.loads(out)
    assert (code, report["ok"], report["findings"]) == (0, True, [])
    assert report["exemptions"] == [
        {
            "kind": "Rollout",
            "name": "voting-fixture/vote",
            "policies": ["IMG-002"],
            "reason": "hotfix build awaiting its signed digest",
            "until": "2099-12-31",
        }
    ]
    code, out, _ = verify(capsys, crd_schema_dir, "--files", str(manifests["exempted-tag"]))
    assert "exemptions in force" in out and "hotfix build awaiting its signed digest" in out
    assert "verify OK: files: 11 objects, 0 errors, 0 warnings/info, 1 exemptions in force" in out


def test_junit_format(capsys, crd_schema_dir, manifests) -> None:
    unknown_field = str(manifests["unknown-field"])
    code, out, _ = verify(capsys, crd_schema_dir, "--format", "junit", "--files", unknown_field)
    suite = ET.fromstring(out).find("testsuite")  # noqa: S314 (our own output)
    assert code == 1
    assert suite is not None and suite.get("name") == "files"
    assert (suite.get("tests"), suite.get("failures")) == ("12", "1")
    failures = [(case.get("name"), fail.get("type")) for case in suite for fail in case.findall("failure")]
    assert failures == [("Rollout/voting-fixture/vote", "schema")]
    notes = [(case.get("name"), note.text) for case in suite for note in case.findall("system-out")]
    assert notes == [("Env/files", f"[policy] {POLICIES_WAIT}")]


def test_files_from_stdin(capsys, crd_schema_dir, manifests, monkeypatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(manifests["unknown-field"].read_text()))
    code, out, _ = verify(capsys, crd_schema_dir, "--format", "json", "--files", "-")
    assert code == 1
    assert [(f["rule"], f["message"], f["severity"]) for f in json.loads(out)["findings"]] == [
        ("policy", POLICIES_WAIT, "warning"),
        (
            "schema",
            "spec.template.spec.containers[0]: Additional properties are not allowed "
            "('imagePullPolicyy' was unexpected)",
            "error",
        ),
    ]


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (
            ["--files", "/nonexistent/x.yaml"],
            "",
            "/nonexistent/x.yaml: cannot read: No such file or directory",
        ),
        (["--files", "-"], "a: [unclosed", "stdin: invalid YAML: "),
        (["--files", "-"], "- just\n- a list\n", "stdin: document 1 is a list, not an object"),
        (["--files", "-"], "---\n", "no objects in -"),
        (["--env", "qa"], "", "unknown env 'qa': choose one of dev, staging, prod"),
        (["--format", "xml"], "", "unknown format 'xml': choose one of table, json, junit"),
        (["--crd-schemas", "/nonexistent"], "", "CRD schema directory /nonexistent does not exist"),
    ],
)
def test_bad_input_is_one_line_and_exit_two(args: list[str], stdin: str, message: str) -> None:
    """Run as a real process: stdin, stderr and the exit code are what users see."""
    result = subprocess.run(
        [sys.executable, "-m", "votectl", "verify", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith(f"votectl: error: {message}")


@pytest.mark.parametrize(
    ("argv", "start"),
    [
        ([], "votectl: error: the following arguments are required: COMMAND"),
        (["nope"], "votectl: error: argument COMMAND: invalid choice: 'nope'"),
        (["verify", "--no-such-flag"], "votectl: error: unrecognized arguments: --no-such-flag"),
        (["status", "--format", "xml"], "votectl status: error: argument --format: invalid choice: 'xml'"),
        (
            ["rollback", "prod", "--steps", "x"],
            "votectl rollback: error: argument --steps: invalid int value",
        ),
    ],
)
def test_argument_mistakes_of_any_command_are_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], start: str
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    _, err = capsys.readouterr()
    assert exit_.value.code == 2
    assert len(err.splitlines()) == 1, err
    assert err.startswith(start), err


def test_missing_crd_schema_dir_is_a_usage_error(monkeypatch, capsys, tmp_path) -> None:
    monkeypatch.delenv("CRD_SCHEMA_DIR", raising=False)
    code = main(["verify", "--crd-schemas", str(tmp_path / "nowhere"), "--files", str(FIXTURES / "base")])
    _, err = capsys.readouterr()
    assert code == 2
    missing = tmp_path / "nowhere"
    assert err.startswith(f"votectl: error: CRD schema directory {missing} does not exist")
    assert err.endswith("(`votectl engines crd-schemas` makes it)\n") and err.count("\n") == 1
