"""Every command a Tekton Task or a workflow calls exists and accepts the arguments it is given:
votectl subcommands and flags (against votectl's own argparse parser), our scripts, make targets."""

from __future__ import annotations

import os
import re
import shlex

import pytest
from delivery_fixtures import as_path, run_steps, task_steps
from votectl.cli import build_parser
from votectl.delivery.scanners import SCANNERS

# Sample values for the shell variables the scripts pass, so the parsers see realistic arguments.
SAMPLES = {
    "SERVICE": "vote",
    "DIGEST": "sha256:" + "0" * 64,
    "IMAGE_DIGEST": "sha256:" + "0" * 64,
    "TARGET_ENV": "staging",
}


def shell_commands(script: str) -> list[list[str]]:
    """Simple commands of a script: continuation lines joined, variables replaced by samples."""
    joined = script.replace("\\\n", " ")
    commands = []
    for line in joined.splitlines():
        line = re.sub(r"\$\{?([A-Z_]+)\}?", lambda m: SAMPLES.get(m.group(1), m.group(0)), line.strip())
        if line and not line.startswith("#"):
            commands.append(shlex.split(line, comments=True))
    return commands


def all_commands(tekton_objects: list[dict], workflows: dict[str, dict]) -> list[tuple[str, list[str]]]:
    scripts = [
        (f"tekton {task}/{step['name']}", step.get("script", "")) for task, step in task_steps(tekton_objects)
    ]
    scripts += [(f"{file} {job}", step["run"]) for file, job, step in run_steps(workflows) if "run" in step]
    return [(where, words) for where, script in scripts for words in shell_commands(script) if words]


def program_and_args(words: list[str]) -> list[str]:
    """Drop what runs a program rather than being it: env assignments, sudo and its options, and an
    interpreter in front of a script."""
    index = 0
    while index < len(words) and (re.match(r"^[A-Z_]+=", words[index]) or words[index] == "sudo"):
        index += 1
        while index < len(words) and words[index].startswith("--"):
            index += 1
    if index < len(words) - 1 and os.path.basename(words[index]) in ("python", "python3", "sh", "bash"):
        index += 1
    return words[index:]


def calls(commands: list[tuple[str, list[str]]], program: str) -> list[tuple[str, list[str]]]:
    found = []
    for where, words in commands:
        command = program_and_args(words)
        if command and os.path.basename(command[0]) == program:
            found.append((where, command[1:]))
    return found


@pytest.fixture(scope="module")
def commands(tekton_objects: list[dict], workflows: dict[str, dict]) -> list[tuple[str, list[str]]]:
    return all_commands(tekton_objects, workflows)


def test_votectl_invocations_parse(commands: list[tuple[str, list[str]]]) -> None:
    invocations = calls(commands, "votectl")
    assert {args[0] for _, args in invocations} >= {"verify", "promote", "lint", "smoke"}
    for where, args in invocations:
        try:
            build_parser().parse_args(args)
        except SystemExit as exit_:
            pytest.fail(f"{where}: votectl {' '.join(args)} is rejected by votectl's parser ({exit_})")


def test_promotion_to_dev_passes_the_built_digest(commands: list[tuple[str, list[str]]]) -> None:
    promotions = [args for _, args in calls(commands, "votectl") if args[0] == "promote" and "dev" in args]
    assert promotions, "nothing promotes to dev"
    for args in promotions:
        assert args[args.index("--digest") + 1] == SAMPLES["DIGEST"]


def votectl_calls(commands: list[tuple[str, list[str]]], subcommand: str) -> list[tuple[str, list[str]]]:
    """(where, arguments after the subcommand) of every `votectl SUBCOMMAND ...`."""
    return [(where, args[1:]) for where, args in calls(commands, "votectl") if args[:1] == [subcommand]]


def test_lint_scanner_names_exist(commands: list[tuple[str, list[str]]]) -> None:
    invocations = votectl_calls(commands, "lint")
    assert invocations
    for where, args in invocations:
        assert set(args) <= set(SCANNERS), f"{where}: unknown scanners {set(args) - set(SCANNERS)}"


def test_smoke_arguments_parse(commands: list[tuple[str, list[str]]]) -> None:
    invocations = votectl_calls(commands, "smoke")
    assert invocations
    for _, args in invocations:
        build_parser().parse_args(["smoke", *args])


def test_make_lint_runs_every_scanner() -> None:
    recipe = re.search(r"^lint:.*\n((?:\t.*\n)+)", as_path("Makefile").read_text(), re.MULTILINE)
    assert recipe
    assert "\t$(BIN)/votectl lint\n" in recipe.group(1)


def test_make_targets_exist(commands: list[tuple[str, list[str]]]) -> None:
    targets = set(re.findall(r"^([a-z-]+):", as_path("Makefile").read_text(), re.MULTILINE))
    for where, args in calls(commands, "make"):
        assert set(args) <= targets, f"{where}: make {' '.join(args)}"


def test_repository_scripts_exist_and_are_executable(commands: list[tuple[str, list[str]]]) -> None:
    for where, words in commands:
        for word in words:
            if word.startswith("./"):
                path = as_path(word[2:])
                assert path.is_file() and os.access(path, os.X_OK), f"{where}: {word}"


def test_dockerfile_entry_points_exist() -> None:
    for service in ("vote", "result", "worker"):
        dockerfile = as_path(f"apps/{service}/Dockerfile").read_text()
        assert f'ENTRYPOINT ["python", "-m", "{service}"]' in dockerfile
        assert as_path(f"apps/{service}/{service}/__main__.py").is_file(), (
            f"python -m {service} has no __main__"
        )
