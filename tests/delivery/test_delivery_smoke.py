"""`votectl smoke`, the check compose and the e2e workflow run: it passes on a real stack, fails on one that
does not count, and refuses bad input in one line before it sends anything."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from votectl.cli import main
from votectl.localstack import ServiceProcess
from votectl.localstack.ports import free_port


def smoke(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(["smoke", *argv])
    except SystemExit as exit_:  # argparse refuses before the command runs
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--vote-url", "vote:5000"], "argument --vote-url: 'vote:5000' is not an http:// or https:// URL"),
        (["--vote-url", "http://vote:99999"], "'http://vote:99999' is not an http:// or https:// URL"),
        (["--vote-url", "http://"], "'http://' is not an http:// or https:// URL"),
        (["--voters", "0"], "argument --voters: '0' is not above zero"),
        (["--voters", "1.5"], "argument --voters: '1.5' is not a whole number"),
        (["--timeout", "-1"], "argument --timeout: '-1' is not above zero"),
        (["--result-url"], "argument --result-url: expected one argument"),
    ],
)
def test_bad_input_is_one_line_and_exit_two(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    defaults = {"--vote-url": "http://127.0.0.1:5000", "--result-url": "http://127.0.0.1:4000"}
    given = [flag for flag in argv if flag.startswith("--")]
    argv = [word for flag, url in defaults.items() if flag not in given for word in (flag, url)] + argv
    code, out, err = smoke(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith("votectl smoke: error: ") and message in err and err.count("\n") == 1, err


def test_unanswered_readyz_fails_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    code, out, err = smoke(capsys, "--vote-url", url, "--result-url", url, "--timeout", "0.5")
    assert code == 1 and out == ""
    assert err == f"votectl: error: {url}/readyz did not answer 200 within 0.5s\n"


@pytest.mark.slow
def test_votes_through_a_real_stack_are_counted(
    start_services: Callable[..., list[ServiceProcess]], capsys: pytest.CaptureFixture[str]
) -> None:
    _, vote, result = start_services("worker", "vote", "result", VOTE_OPTIONS="Dogs,Cats")
    code, out, err = smoke(capsys, "--vote-url", f"{vote.url}/", "--result-url", result.url, "--voters", "5")
    assert (code, err) == (0, "")
    assert out == "smoke: 5 votes for Cats counted (0 -> 5)\n"


@pytest.mark.slow
def test_votes_nobody_counts_fail_the_smoke_test(
    start_services: Callable[..., list[ServiceProcess]], capsys: pytest.CaptureFixture[str]
) -> None:
    worker, vote, result = start_services("worker", "vote", "result", VOTE_OPTIONS="Dogs,Cats")
    worker.stop()
    code, out, err = smoke(
        capsys, "--vote-url", vote.url, "--result-url", result.url, "--voters", "3", "--timeout", "2"
    )
    assert code == 1 and out == ""
    assert err == "votectl: error: expected {'Dogs': 0, 'Cats': 3}, result shows {'Dogs': 0, 'Cats': 0}\n"
