"""docs/policies.md lists the catalogue exactly as the Rego library defines it."""

from __future__ import annotations

import re
from pathlib import Path

from votectl.policy import catalog

DOC = Path(__file__).resolve().parents[2] / "docs" / "policies.md"


def test_catalogue_rows_match_the_library():
    rows = {
        match["id"]: (match["title"], match["severity"], match["why"])
        for match in re.finditer(
            r"^\| (?P<id>[A-Z]+-\d{3}) \| (?P<title>[^|]+) \| (?P<severity>[a-z]+) \| (?P<why>[^|]+) \|$",
            DOC.read_text(encoding="utf-8"),
            re.MULTILINE,
        )
    }
    expected = {pid: (e["title"], e["severity"], e["rationale"]) for pid, e in catalog().items()}
    assert rows == expected
