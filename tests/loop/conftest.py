"""The GitOps loop's e2e reuses the release tests' GitHub API stand-in (the one allowed stand-in)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "release"))
