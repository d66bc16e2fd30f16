"""Every linter and scanner of `make lint` passes on the repository (the same functions make lint runs)."""

from __future__ import annotations

import pytest
from delivery_scanners import SCANNERS, main, rendered_envs


@pytest.mark.scanners
@pytest.mark.parametrize("name", sorted(SCANNERS))
def test_scanner_is_clean(name: str) -> None:
    result = SCANNERS[name]()
    assert result.returncode == 0, f"{name} failed:\n{result.stdout}{result.stderr}"


def test_trivy_config_covers_every_rendered_env() -> None:
    assert set(rendered_envs()) >= {"dev", "staging", "prod"}


def test_unknown_scanner_name_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["no-such-scanner"]) == 2
    assert "unknown scanner(s): no-such-scanner" in capsys.readouterr().err
