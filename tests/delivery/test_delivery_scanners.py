"""Every linter and scanner of `make lint` passes on the repository (the functions `votectl lint` runs)."""

from __future__ import annotations

import pytest
from delivery_fixtures import ROOT
from votectl.cli import main
from votectl.delivery.scanners import SCANNERS, rendered_envs


@pytest.mark.scanners
@pytest.mark.parametrize("name", sorted(SCANNERS))
def test_scanner_is_clean(name: str) -> None:
    result = SCANNERS[name](ROOT)
    assert result.returncode == 0, f"{name} failed:\n{result.stdout}{result.stderr}"


def test_trivy_config_covers_every_rendered_env() -> None:
    assert set(rendered_envs(ROOT)) >= {"dev", "staging", "prod"}


def test_unknown_scanner_name_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "no-such-scanner"]) == 2
    err = capsys.readouterr().err
    assert "unknown scanner(s): no-such-scanner" in err
    assert err.startswith("votectl: error: ") and err.count("\n") == 1
